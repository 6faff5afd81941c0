// The errors that stop a start with one line naming the setting (the CLI prints them without a stack).

/** A setting is missing or invalid; the message names it (exit code 2). */
export class ConfigError extends Error {}

/** The configuration is valid but a service it names does not answer; the message names the setting (exit code 1). */
export class StartError extends Error {}

/** Environment variables (or flags mapped onto their names), as read once by `readEnvironment`. */
export type EnvSource = Record<string, string | undefined>;
