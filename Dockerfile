# One image for the worker, the API, the payment simulator and the one-shot setup job
# (migrations + search attributes). docker-compose.yml picks the command per service.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# Dev dependencies stay: the processes run TypeScript through tsx, and the worker bundles workflows at start.
RUN npm ci --include=dev && npm cache clean --force
COPY . .
# The storefront's bundle (web/dist): `npm ci` above ran before the sources were here.
RUN npm run build:web
USER node
CMD ["npm", "run", "api"]
