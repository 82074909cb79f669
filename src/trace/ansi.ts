/** GitLab Runner's ANSI sequences (docs/protocol.md §9.2). */
export const ANSI = {
  boldGreen: "\x1b[32;1m",
  boldRed: "\x1b[31;1m",
  boldYellow: "\x1b[33;1m",
  boldCyan: "\x1b[36;1m",
  yellow: "\x1b[0;33m",
  grey: "\x1b[0;37m",
  reset: "\x1b[0;m",
  clear: "\x1b[0K",
} as const;

/** Matches every ANSI escape sequence (CSI and OSC), for plain-text views. */
export const ANSI_ESCAPE = /\x1b\[[0-9;?]*[ -\/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;
