import { config, z } from "zod";

/**
 * zod, set to check without compiling. Schemas are checked a few times a run, and zod's compiled
 * checks cost 4-8 ms to compile each, more than they ever save (a local job's two runner checks:
 * 9 ms less interpreted). Every module that makes a schema takes zod from here, so the setting is
 * made before any schema is, and zod itself is loaded only by a run that needs a schema: a shell
 * job's `runner exec` needs none (loading zod at start cost every run ~1 ms).
 */
config({ jitless: true });

export { z };
