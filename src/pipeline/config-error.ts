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

/** Several independent problems (GitLab reports every entry error at once); the first is the message. */
export class ConfigErrorList extends ConfigError {
  constructor(readonly errors: readonly ConfigError[]) {
    super(errors[0]?.message ?? "Invalid configuration", errors[0]?.position);
  }

  /**
   * One line per problem; the same message at several places (a `default:` keyword every job
   * inherits) is one line, with where else it is.
   */
  override describe(): string {
    const groups = new Map<string, ConfigError[]>();
    for (const error of this.errors) groups.set(error.message, [...(groups.get(error.message) ?? []), error]);
    return [...groups.values()].map(([first, ...rest]) => {
      if (rest.length === 0) return first!.describe();
      const places = rest.map((e) => (e.position ? `${e.position.line}:${e.position.column}` : "?"));
      const shown = places.length > 5 ? `${places.slice(0, 5).join(", ")}, …` : places.join(", ");
      return `${first!.describe()} (the same in ${rest.length} more place${rest.length === 1 ? "" : "s"}: ${shown})`;
    }).join("\n");
  }
}

/** Runs readers whose errors are independent, keeping every {@link ConfigError} for one report. */
export class ErrorCollector {
  readonly #errors: ConfigError[] = [];

  /** The reader's value, or undefined when it failed with a configuration error (kept). */
  attempt<T>(read: () => T): T | undefined {
    try {
      return read();
    } catch (error) {
      if (error instanceof ConfigErrorList) this.#errors.push(...error.errors);
      else if (error instanceof ConfigError) this.#errors.push(error);
      else throw error;
      return undefined;
    }
  }

  /** Keeps an error found without a reader. */
  add(error: ConfigError): void {
    this.#errors.push(error);
  }

  /** Throws what was kept: the error itself when there is one, a {@link ConfigErrorList} for several. */
  throwIfAny(): void {
    if (this.#errors.length === 1) throw this.#errors[0];
    if (this.#errors.length > 1) throw new ConfigErrorList(this.#errors);
  }
}
