/** The floor workflows' only activity: returns at once. */
export function createFloorActivities() {
  return {
    noop(): Promise<void> {
      return Promise.resolve();
    },
  };
}

export type FloorActivities = ReturnType<typeof createFloorActivities>;
