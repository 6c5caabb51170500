// iptables through the `iptables` command (Debian's is iptables-nft: the same rule syntax on
// nf_tables). Every change is idempotent: `-C` checks before `-A`/`-I`/`-D`, so re-applying after an
// agent restart adds nothing twice and releasing a rule that is already gone is not an error.
import { Internal } from '../../lib/errors.js';
import type { IptablesJump, IptablesRule, IptablesTable } from '../../core/containers/network-iptables-plan.js';
import { runTool } from '../process/run-tool.js';

export class Iptables {
  constructor(private readonly binary = 'iptables') {}

  private run(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
    // --wait: legacy iptables takes the xtables lock; a concurrent `iptables` elsewhere must not fail us.
    return runTool(this.binary, ['--wait', ...args], { debianPackage: 'iptables' });
  }

  /** True when the command exits 0; false for exit 1 (iptables' "no such rule/chain"). */
  private async check(args: readonly string[]): Promise<boolean> {
    try {
      await this.run(args);
      return true;
    } catch (e) {
      if (e instanceof Internal && (e.cause as { code?: unknown } | undefined)?.code === 1) return false;
      throw e;
    }
  }

  async chainExists(table: IptablesTable, chain: string): Promise<boolean> {
    return this.check(['-t', table, '-S', chain]);
  }

  async ensureChain(table: IptablesTable, chain: string): Promise<void> {
    if (!(await this.chainExists(table, chain))) await this.run(['-t', table, '-N', chain]);
  }

  async hasRule(r: IptablesRule): Promise<boolean> {
    return this.check(['-t', r.table, '-C', r.chain, ...r.spec]);
  }

  async ensureRule(r: IptablesRule): Promise<void> {
    if (!(await this.hasRule(r))) await this.run(['-t', r.table, '-A', r.chain, ...r.spec]);
  }

  async ensureJump(j: IptablesJump): Promise<void> {
    if (await this.hasRule(j)) return;
    await this.run(['-t', j.table, j.insertFirst ? '-I' : '-A', j.chain, ...(j.insertFirst ? ['1'] : []), ...j.spec]);
  }

  /** Delete every copy of the rule (a crash between add and record could have left two). */
  async deleteRule(r: IptablesRule): Promise<void> {
    while (await this.hasRule(r)) await this.run(['-t', r.table, '-D', r.chain, ...r.spec]);
  }

  /** The whole ruleset as iptables-save prints it (tests compare before/after). */
  async save(): Promise<string> {
    return (await runTool(`${this.binary}-save`, [], { debianPackage: 'iptables' })).stdout;
  }
}
