import { describe, expect, it } from 'vitest';
import { inventorySchema } from '../../src/inventory/schema.js';
import { CONNECTION_VARS, KNOWN_HOSTS_VAR } from '../../src/inventory/known-vars.js';
import { generateVarsTypes, GENERATED_FILE } from './generate-vars-types.js';

describe('one source of truth for pgprov variables', () => {
  it('src/inventory/vars.generated.ts is what the schema generates', { timeout: 30_000 }, async () => {
    await expect(await generateVarsTypes()).toMatchFileSnapshot(
      GENERATED_FILE,
      'vars.generated.ts differs from schemas/inventory.schema.json: run `npm run gen:types`',
    );
  });

  it('every variable the loader reads is declared in the schema', () => {
    const declared = Object.keys((inventorySchema.$defs.vars?.properties ?? {}) as object);
    const read = [...Object.values(CONNECTION_VARS).flatMap((v) => [v.ansible, v.pgprov]), KNOWN_HOSTS_VAR];
    expect(read.filter((name) => !declared.includes(name))).toEqual([]);
  });
});
