/** A place in a configuration file. */
export interface SourcePosition {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/**
 * The configuration is invalid: the message is GitLab's wording where it has one, and the position
 * (which GitLab cannot give) names file, line and column when known.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    message: string,
    readonly position?: SourcePosition,
  ) {
    super(message);
  }

  /** `file:line:column: message`, or the message alone. */
  describe(): string {
    const p = this.position;
    return p ? `${p.file}:${p.line}:${p.column}: ${this.message}` : this.message;
  }
}
