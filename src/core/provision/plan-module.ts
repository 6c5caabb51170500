// planModule: one cloud-config module's steps, pure (the only input from outside is
// ModuleInput.randomBytes for password salts). The orchestrator decides which modules run when
// (model.ts MODULES: stage and frequency) and hands the steps to the executor.
import type { ModuleName } from './model.js';
import type { ModuleInput, ModulePlan } from './module-input.js';
import { planBootcmd, planRuncmd, planScripts } from './modules/plan-commands.js';
import { planFinalMessage } from './modules/plan-final-message.js';
import { planAtomicUpdate, planContainers } from './modules/plan-handoff.js';
import { planSetHostname, planUpdateEtcHosts, planUpdateHostname } from './modules/plan-hostname.js';
import { planPowerStateChange } from './modules/plan-power-state-change.js';
import { planSsh } from './modules/plan-ssh.js';
import { planTimezone } from './modules/plan-timezone.js';
import { planUsersGroups } from './modules/plan-users-groups.js';
import { planWriteFiles } from './modules/plan-write-files.js';

export { ATOMIC_DEFAULT_USER, type DefaultUser, type ModuleInput, type ModulePlan } from './module-input.js';

export function planModule(name: ModuleName, input: ModuleInput): ModulePlan {
  switch (name) {
    case 'bootcmd':
      return planBootcmd(input);
    case 'write_files':
      return planWriteFiles(input, false);
    case 'write_files_deferred':
      return planWriteFiles(input, true);
    case 'set_hostname':
      return planSetHostname(input);
    case 'update_hostname':
      return planUpdateHostname(input);
    case 'update_etc_hosts':
      return planUpdateEtcHosts(input);
    case 'users_groups':
      return planUsersGroups(input);
    case 'ssh':
      return planSsh(input);
    case 'timezone':
      return planTimezone(input);
    case 'runcmd':
      return planRuncmd(input);
    case 'containers':
      return planContainers(input);
    case 'atomic_update':
      return planAtomicUpdate(input);
    case 'scripts_per_once':
    case 'scripts_per_boot':
    case 'scripts_per_instance':
    case 'scripts_user':
      return planScripts(input, name);
    case 'final_message':
      return planFinalMessage(input);
    case 'power_state_change':
      return planPowerStateChange(input);
  }
}
