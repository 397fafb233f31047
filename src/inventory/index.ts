/** The inventory: load (load.ts), then the pure stages it is built from, for tests and other callers. */
export type { HostConnection, Inventory, InventoryHost, Vars } from './model.js';
export type { PgprovVars } from './vars.generated.js';
export { loadInventory, type LoadOptions } from './load.js';
export { parseExtraVarArgs, parseExtraVars, type ExtraVarsIO } from './extra-vars.js';
export { resolveInput, validateInventory, type InventoryInput, type VarsText } from './validate.js';
export { parseSource, type Parsed, type Source } from './source.js';
export { checkInventoryShape, checkVarsShape } from './schema.js';
export { resolveInventory, toInventory, type ResolvedInventory } from './resolve.js';
export { checkRules, RULES, type Rule } from './rules/index.js';
export { mergeVars, resolveHostVars } from './precedence.js';
export { CONNECTION_VARS } from './known-vars.js';
export { withoutHosts } from './without.js';
