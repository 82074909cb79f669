/** A `!reference [job, key, …]` that is still to be resolved; `invalid` holds what a malformed one said. */
export class Reference {
  constructor(
    readonly path: readonly string[],
    readonly invalid?: string,
  ) {}
}
