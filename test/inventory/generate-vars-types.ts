import { fileURLToPath } from 'node:url';
import { compile } from 'json-schema-to-typescript';
import { format, resolveConfig } from 'prettier';
import { inventorySchema } from '../../src/inventory/schema.js';

/**
 * The one generator of src/inventory/vars.generated.ts: the TypeScript type of `$defs/vars` in
 * schemas/inventory.schema.json. `npm run gen:types` writes it (through vars-types.test.ts with --update);
 * the same test fails when the committed file drifts from the schema.
 */
export const GENERATED_FILE = fileURLToPath(
  new URL('../../src/inventory/vars.generated.ts', import.meta.url),
);

const BANNER = `/*
 * Generated from schemas/inventory.schema.json ($defs/vars) by \`npm run gen:types\`. Do not edit by hand:
 * change the schema and run \`npm run gen:types\`.
 */`;

export async function generateVarsTypes(): Promise<string> {
  const { $defs } = inventorySchema;
  // Variables may be empty (`vars:`) in YAML; the type describes them once given.
  const vars = { ...$defs.vars, type: 'object', $defs };
  const code = await compile(vars as Parameters<typeof compile>[0], 'PgprovVars', {
    bannerComment: BANNER,
    format: false,
    additionalProperties: true,
    unknownAny: true,
  });
  const style = (await resolveConfig(GENERATED_FILE)) ?? {};
  return format(code, { ...style, parser: 'typescript' });
}
