import type { Duplex } from "node:stream";

/**
 * Whether an Engine API connection keeps this process alive (a net.Socket's ref/unref, where the
 * stream has them): a job kept for debugging must not hold up the runner's exit while idle.
 */
export function holdProcess(stream: Duplex, on: boolean): void {
  const socket = stream as Duplex & { ref?: () => void; unref?: () => void; socket?: { ref?: () => void; unref?: () => void } };
  const target = socket.unref ? socket : socket.socket;
  if (on) target?.ref?.();
  else target?.unref?.();
}
