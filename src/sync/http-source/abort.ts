/**
 * An abort controller for one request, aborted with the source (its `stop()`), by its own
 * deadline when it has one, or by the caller. `dispose()` unhooks it from the source's signal and
 * clears its timer, so a source that made many requests holds no listener or timer for any
 * finished one.
 */
export interface RequestAbort {
  readonly signal: AbortSignal;
  /** Why it was aborted, or undefined while it is not. */
  readonly reason: () => unknown;
  abort(reason: unknown): void;
  /** (Re)starts the deadline: `ms` from now the request is aborted with `reason`. */
  deadline(ms: number, reason: () => unknown): void;
  dispose(): void;
}

export function requestAbort(parent: AbortSignal): RequestAbort {
  const controller = new AbortController();
  let why: unknown;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const abort = (reason: unknown): void => {
    if (controller.signal.aborted) return;
    why = reason;
    controller.abort(reason);
  };
  const onParent = (): void => abort(parent.reason);
  if (parent.aborted) onParent();
  else parent.addEventListener('abort', onParent, { once: true });
  return {
    signal: controller.signal,
    reason: () => why,
    abort,
    deadline(ms, reason) {
      if (timer !== null) {
        // refresh() restarts the same timer: cheap enough for every chunk of a stream.
        timer.refresh();
        return;
      }
      timer = setTimeout(() => abort(reason()), ms);
      // The request itself keeps the process alive while it runs; its deadline need not.
      timer.unref();
    },
    dispose() {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      parent.removeEventListener('abort', onParent);
    },
  };
}
