import { describeFailoverDrill } from '../support/failover.js';

// On the lab's Debian 12 cluster (inventory/lab.yaml); trixie.test.ts runs the same drill on Debian 13.
describeFailoverDrill('Debian 12');
