/**
 * Sign-in for the local stack: pick a seeded demo user; the API's dev-only endpoint signs a token.
 * Where that endpoint does not exist (NODE_ENV=production) a token can be pasted instead.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, request, type DevUser, type Session } from './api';
import { explain } from './explain';
import { Notice } from './ui';

/** The claims of a pasted token, read (not verified: the API verifies every request). */
function sessionOfToken(token: string): Session | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: string; role?: DevUser['role']; sellerId?: string };
    if (!claims.sub || !claims.role) return undefined;
    return { token, user: { userId: claims.sub, role: claims.role, ...(claims.sellerId ? { sellerId: claims.sellerId } : {}), label: claims.sellerId ?? claims.sub } };
  } catch {
    return undefined;
  }
}

export function SignInPage({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [users, setUsers] = useState<DevUser[]>();
  const [devAvailable, setDevAvailable] = useState(true);
  const [userId, setUserId] = useState('');
  const [pasted, setPasted] = useState('');
  const [error, setError] = useState<string>();

  useEffect(() => {
    request<{ users: DevUser[] }>('GET', '/v1/dev/users').then(
      (res) => {
        setUsers(res.body.users);
        setUserId(res.body.users[0]?.userId ?? '');
      },
      (err: unknown) => {
        if (err instanceof ApiError && err.status === 404) setDevAvailable(false);
        else setError(err instanceof ApiError ? explain(err.code, err.details) : String(err));
      },
    );
  }, []);

  async function signIn(event: Event): Promise<void> {
    event.preventDefault();
    setError(undefined);
    try {
      const res = await request<Session>('POST', '/v1/dev/tokens', { body: { userId } });
      onSignedIn({ token: res.body.token, user: res.body.user });
    } catch (err) {
      setError(err instanceof ApiError ? explain(err.code, err.details) : String(err));
    }
  }

  function usePasted(event: Event): void {
    event.preventDefault();
    const session = sessionOfToken(pasted.trim());
    if (session) onSignedIn(session);
    else setError('That is not a token this shop can read.');
  }

  return (
    <section aria-labelledby="signin-heading">
      <h2 id="signin-heading">Sign in</h2>
      {devAvailable && users && (
        <form onSubmit={(e) => void signIn(e)}>
          <p>Local demo: pick one of the seeded users.</p>
          <label for="signin-user">Sign in as</label>
          <select id="signin-user" value={userId} onChange={(e) => setUserId((e.target as HTMLSelectElement).value)}>
            {users.map((u) => (
              <option key={u.userId} value={u.userId}>
                {u.label} ({u.role}, {u.userId})
              </option>
            ))}
          </select>
          <button type="submit" class="primary">
            Sign in
          </button>
        </form>
      )}
      {!devAvailable && (
        <form onSubmit={usePasted}>
          <p>The demo sign-in is not available on this server. Paste a bearer token instead.</p>
          <label for="signin-token">Bearer token</label>
          <textarea id="signin-token" rows={3} value={pasted} onInput={(e) => setPasted((e.target as HTMLTextAreaElement).value)} />
          <button type="submit" class="primary">
            Use this token
          </button>
        </form>
      )}
      {error && <Notice kind="error">{error}</Notice>}
    </section>
  );
}
