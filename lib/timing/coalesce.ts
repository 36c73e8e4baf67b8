/** Runs `fn` once, `ms` after the first of any number of calls to `schedule` (e.g. a status line after a burst). */
export function coalesce(fn: () => void, ms: number): { schedule(): void; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  return {
    schedule() {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        fn();
      }, ms);
    },
    cancel() {
      if (timer) clearTimeout(timer);
      timer = undefined;
    },
  };
}
