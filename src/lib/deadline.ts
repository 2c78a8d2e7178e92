/**
 * `work`, or a rejection with `onTimeout()` once `seconds` pass without it settling. The work is
 * not cancelled (a promise cannot be): whoever waits on the result stops waiting, which is what a
 * request held open by a store that never answers (a half-open connection) needs.
 */
export function withDeadline<T>(
  work: Promise<T>,
  seconds: number,
  onTimeout: () => Error,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(onTimeout()), seconds * 1000);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
