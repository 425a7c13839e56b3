/**
 * Runs at most `concurrency` tasks at once, like oci/limit.ts, but with a queue that dequeues in
 * O(1): retention queues one task per tag, and Array.shift on a 100,000-entry queue moves every
 * entry each time (quadratic overall).
 */
export function pool(concurrency: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  let queue: (() => void)[] = [];
  let head = 0;
  // A finishing task hands its slot straight to the next waiting one, so a caller arriving in
  // between cannot take it too and exceed the limit.
  const next = () => {
    if (head < queue.length) {
      const wake = queue[head] as () => void;
      queue[head++] = undefined as never;
      // Drop the consumed prefix now and then so the array does not grow without bound.
      if (head > 1024 && head * 2 > queue.length) {
        queue = queue.slice(head);
        head = 0;
      }
      wake();
      return;
    }
    active--;
  };
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active >= concurrency) await new Promise<void>((resolve) => queue.push(resolve));
    else active++;
    try {
      return await task();
    } finally {
      next();
    }
  };
}
