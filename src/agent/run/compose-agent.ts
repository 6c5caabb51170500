// The composition root of `atomicd run`: the stores, the OCI runtime, the container engine, the
// declared-containers reconciler and the API routes over them, all under one state directory:
//
//   STATE/images/      the image store          STATE/containers/  container records and logs
//   STATE/volumes/     named volumes            STATE/runtime/     the OCI runtime's --root
//   STATE/network/     networks, endpoints, published ports, connect/disconnect changes
//   EXEC_ROOT/netns/   one network namespace file per running container (under /run: a reboot clears it)
//
// Everything here is constructed once; nothing else in the agent builds adapters.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from '#pino';
import { readCgroupHierarchy } from '../../adapters/cgroups/cgroup-hierarchy.js';
import { ImageStore } from '../../adapters/image-store/image-store.js';
import { readHostFacts } from '../../adapters/oci-runtime/host-facts.js';
import type { RuntimeName } from '../../adapters/oci-runtime/oci-runtime.js';
import { openOciRuntime } from '../../adapters/oci-runtime/runtime-cli.js';
import { VolumeStore } from '../../adapters/volume-store/volume-store.js';
import { archiveRoutes } from '../api/compat/archive.js';
import { attachRoutes } from '../api/compat/attach.js';
import { containerRoutes } from '../api/compat/containers.js';
import { diskUsageRoutes } from '../api/compat/disk-usage.js';
import { eventRoutes } from '../api/compat/events.js';
import { execRoutes } from '../api/compat/exec.js';
import { imageRoutes } from '../api/compat/images.js';
import { networkRoutes } from '../api/compat/networks.js';
import { systemRoutes } from '../api/compat/system.js';
import { volumeRoutes } from '../api/compat/volumes.js';
import { Router } from '../api/router.js';
import type { BridgeNetworking } from '../containers/bridge-networking.js';
import { ContainerEngine } from '../containers/container-engine.js';
import { DeclaredContainersReconciler } from '../reconcile/declared-containers-reconciler.js';

/** Built by `npm run build:monitor`; found beside dist/ (the package root is four levels up from here). */
export const DEFAULT_MONITOR_PATH = fileURLToPath(new URL('../../../../native/monitor/atomic-monitor', import.meta.url));

export interface AgentSettings {
  readonly stateDir: string;
  readonly runtime: RuntimeName;
  /** Where provisioning hands over the declared containers (CLOUD_DIR/data/handoff/containers.json). */
  readonly cloudDir: string;
  readonly monitorPath?: string;
  /** Parent cgroup of every container; several agents side by side need different ones. */
  readonly cgroupParent?: string;
  /** Runtime files that a reboot must clear (network namespace files); default /run/atomic. */
  readonly execRoot?: string;
  /**
   * dockerd --bridge: the device of the default `bridge` network (default atomic0), or "none":
   * no default network, no bridge and no iptables change at all; containers default to network none.
   */
  readonly bridge?: string;
  /** dockerd --bip without the host part: the default network's subnet. */
  readonly defaultSubnet?: string;
  /** dockerd --icc (default true). */
  readonly icc?: boolean;
  /** dockerd --insecure-registry: HOST[:PORT] pulled from over plain HTTP besides loopback ones. */
  readonly insecureRegistries?: readonly string[];
  readonly log: Logger;
}

export const DEFAULT_EXEC_ROOT = '/run/atomic';

export interface ComposedAgent {
  readonly router: Router;
  readonly engine: ContainerEngine;
  /** Stops watching and reconciling; containers keep running (their monitors are not ours). */
  close(): Promise<void>;
}

export async function composeAgent(s: AgentSettings): Promise<ComposedAgent> {
  const { log } = s;
  const [hostFacts, cgroups] = await Promise.all([readHostFacts(), readCgroupHierarchy()]);
  const runtime = await openOciRuntime({ name: s.runtime, root: join(s.stateDir, 'runtime'), cgroupMode: hostFacts.cgroupFeatures.mode });
  const images = new ImageStore({ root: join(s.stateDir, 'images'), registry: { insecureRegistries: s.insecureRegistries ?? [] } });
  let networking: BridgeNetworking | undefined;
  if (s.bridge !== 'none') {
    // Imported here: an agent run with --bridge none never loads the bridge, iptables and netns code.
    const [{ NetworkController }, { BridgeNetworking, membershipFileIn }] = await Promise.all([
      import('../../adapters/network/network-controller.js'),
      import('../containers/bridge-networking.js'),
    ]);
    const networkDir = join(s.stateDir, 'network');
    const controller = new NetworkController({
      stateDir: networkDir,
      runDir: join(s.execRoot ?? DEFAULT_EXEC_ROOT, 'netns'),
      ...(s.bridge === undefined ? {} : { defaultBridge: s.bridge }),
      ...(s.defaultSubnet === undefined ? {} : { defaultSubnet: s.defaultSubnet }),
      ...(s.icc === undefined ? {} : { defaultIcc: s.icc }),
    });
    // Before the engine recovers containers: restarting one needs its networks back.
    networking = await BridgeNetworking.open({ controller, defaultBridge: true, membershipFile: membershipFileIn(networkDir) });
  }
  // usedBy asks the engine, which exists by the time anyone removes a volume.
  const built: { engine?: ContainerEngine } = {};
  const volumes = new VolumeStore({ root: join(s.stateDir, 'volumes'), usedBy: (name) => built.engine?.volumeUsers(name) ?? [] });
  const engine = await ContainerEngine.open({
    // The engine keeps its records under STATE/containers/ itself.
    stateDir: s.stateDir,
    imageStore: images,
    runtime,
    hostFacts,
    cgroups,
    monitorPath: s.monitorPath ?? DEFAULT_MONITOR_PATH,
    logger: log.child({ component: 'containers' }),
    volumes: { ensure: async (name) => (await volumes.create({ name })).mountpoint, mountpoint: (name) => volumes.mountpointOf(name) },
    ...(s.cgroupParent === undefined ? {} : { cgroupParent: s.cgroupParent }),
    ...(networking === undefined ? {} : { networking }),
  });
  built.engine = engine;

  const counts = async (): Promise<{ containers: number; running: number; paused: number; stopped: number; images: number }> => {
    const [imgs, cs] = await Promise.all([images.list(), engine.list({ all: true })]);
    const running = cs.filter((c) => c.State === 'running' || c.State === 'restarting').length;
    const paused = cs.filter((c) => c.State === 'paused').length;
    return { containers: cs.length, running, paused, stopped: cs.length - running - paused, images: imgs.length };
  };

  const router = new Router();
  systemRoutes(router, { stateDir: s.stateDir, runtimes: ['crun', 'runc'], defaultRuntime: s.runtime, counts });
  imageRoutes(router, images, { imageInUse: (id) => engine.imageInUse(id) });
  volumeRoutes(router, volumes);
  networkRoutes(router, engine, networking);
  containerRoutes(router, engine);
  archiveRoutes(router, engine);
  diskUsageRoutes(router, { engine, images, volumes });
  attachRoutes(router, engine);
  execRoutes(router, engine);
  eventRoutes(router, engine.events);

  const reconciler = new DeclaredContainersReconciler({
    handoffFile: join(s.cloudDir, 'data', 'handoff', 'containers.json'),
    engine,
    images,
    log: log.child({ component: 'declared-containers' }),
  });
  // In the background: a slow pull of a declared image must not hold the API back.
  const reconciled = reconciler.start().catch((e: unknown) => log.error({ err: e }, 'declared containers failed'));

  return {
    router,
    engine,
    close: async () => {
      await reconciler.close();
      await reconciled;
      await engine.close();
    },
  };
}
