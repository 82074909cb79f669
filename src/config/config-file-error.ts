/** config.toml could not be read: the message names the file and the key (or line) at fault. */
export class ConfigFileError extends Error {
  override readonly name = "ConfigFileError";
}
