import { certificateOp } from './certificate.js';
import { commandOp } from './command.js';
import { directoryOp } from './directory.js';
import { fileOp } from './file.js';
import type { Operation } from './operation.js';
import { packageOp } from './package.js';
import { patroniConfigOp, patroniRolloutOp } from './patroni.js';
import { serviceOp } from './service.js';
import { groupOp, userOp } from './user.js';

/** Every operation by module name. Role tasks name one of these (template and copy become `file`). */
export const operations: Record<string, Operation<never>> = Object.fromEntries(
  [
    fileOp,
    directoryOp,
    packageOp,
    serviceOp,
    userOp,
    groupOp,
    commandOp,
    certificateOp,
    patroniConfigOp,
    patroniRolloutOp,
  ].map((op) => [op.module, op as Operation<never>]),
);
