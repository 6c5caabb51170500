// Docker-shaped views of a container record: ContainerJSON (`docker inspect`, GET
// /containers/{id}/json) and ContainerSummary (`docker ps`, GET /containers/json), with the field
// names and types of the Engine API (api/types/container). Pure functions of the record.
import { join } from 'node:path';
import type { ContainerConfig, HostConfig } from '../../core/containers/container-spec.js';
import { hasProcess, isRunning, ZERO_TIME } from '../../core/containers/container-state.js';
import type { ContainerRecord } from './container-store.js';
import type { EndpointSettings } from './container-networking.js';
import { humanDuration } from '../../lib/human-units.js';

export interface ContainerStateJSON {
  Status: string;
  Running: boolean;
  Paused: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  Dead: boolean;
  Pid: number;
  ExitCode: number;
  Error: string;
  StartedAt: string;
  FinishedAt: string;
}

export interface MountPoint {
  Type: string;
  Name?: string;
  Source: string;
  Destination: string;
  Driver?: string;
  Mode: string;
  RW: boolean;
  Propagation: string;
}

export interface ContainerConfigJSON {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts?: Record<string, object>;
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[] | null;
  Image: string;
  Volumes: Record<string, object> | null;
  WorkingDir: string;
  Entrypoint: string[] | null;
  OnBuild: null;
  Labels: Record<string, string>;
  StopSignal?: string;
}

export interface NetworkSettingsJSON {
  Bridge: string;
  SandboxID: string;
  SandboxKey: string;
  Ports: Record<string, unknown>;
  Gateway: string;
  IPAddress: string;
  IPPrefixLen: number;
  MacAddress: string;
  Networks: Record<string, EndpointSettings>;
}

export interface ContainerJSON {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: ContainerStateJSON;
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: string;
  MountLabel: string;
  ProcessLabel: string;
  AppArmorProfile: string;
  ExecIDs: string[] | null;
  HostConfig: HostConfig;
  GraphDriver: { Name: string; Data: Record<string, string> };
  Mounts: MountPoint[];
  Config: ContainerConfigJSON;
  NetworkSettings: NetworkSettingsJSON;
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  Image: string;
  ImageID: string;
  Command: string;
  Created: number;
  Ports: unknown[];
  Labels: Record<string, string>;
  State: string;
  Status: string;
  HostConfig: { NetworkMode: string };
  NetworkSettings: { Networks: Record<string, EndpointSettings> };
  Mounts: MountPoint[];
}

export function stateJSON(r: ContainerRecord): ContainerStateJSON {
  const s = r.state;
  return {
    Status: s.status,
    Running: isRunning(s),
    Paused: s.status === 'paused',
    Restarting: s.status === 'restarting',
    OOMKilled: s.run.oomKilled,
    Dead: s.status === 'dead',
    Pid: hasProcess(s) ? s.pid : 0,
    ExitCode: s.run.exitCode,
    Error: s.run.error,
    StartedAt: s.run.startedAt,
    FinishedAt: s.run.finishedAt,
  };
}

/** The host directory of a named volume (the volume store's), for Mounts[].Source. */
export type VolumeSource = (name: string) => string;

function mountsOf(hc: HostConfig, volumeSource: VolumeSource): MountPoint[] {
  const out: MountPoint[] = [];
  for (const b of hc.Binds ?? []) {
    const [src = '', dst = '', mode = ''] = b.split(':');
    const named = !src.startsWith('/');
    out.push({
      // dockerd shows the "z" (shared relabel) default for a `-v NAME:/path` volume without a mode.
      Type: named ? 'volume' : 'bind', ...(named ? { Name: src } : {}), Source: named ? volumeSource(src) : src, Destination: dst, ...(named ? { Driver: 'local' } : {}),
      Mode: named && mode === '' ? 'z' : mode, RW: !mode.split(',').includes('ro'), Propagation: named ? '' : 'rprivate',
    });
  }
  for (const m of hc.Mounts ?? []) {
    const volume = m.Type === 'volume' && m.Source !== undefined && m.Source !== '';
    out.push({
      Type: m.Type, ...(volume ? { Name: m.Source } : {}), Source: m.Type === 'bind' ? (m.Source ?? '') : volume ? volumeSource(m.Source ?? '') : '', ...(volume ? { Driver: 'local' } : {}),
      Destination: m.Target, Mode: '', RW: m.ReadOnly !== true, Propagation: m.Type === 'bind' ? (m.BindOptions?.Propagation ?? 'rprivate') : '',
    });
  }
  return out;
}

function configJSON(r: ContainerRecord): ContainerConfigJSON {
  const s = r.spec;
  const c: ContainerConfig = r.config;
  const ports = Object.fromEntries(s.exposedPorts.map((p) => [p, {}]));
  return {
    Hostname: s.hostname,
    Domainname: s.domainname,
    User: s.user,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ...(s.exposedPorts.length > 0 ? { ExposedPorts: ports } : {}),
    Tty: s.tty,
    OpenStdin: s.openStdin,
    StdinOnce: c.StdinOnce ?? false,
    Env: [...s.env],
    Cmd: s.cmd.length > 0 ? [...s.cmd] : null,
    Image: r.imageRef,
    Volumes: null,
    // dockerd shows the image's WorkingDir merged in; the spec's "/" is the runtime default when
    // neither set one.
    WorkingDir: c.WorkingDir !== undefined && c.WorkingDir !== '' ? c.WorkingDir : s.workingDir !== '/' ? s.workingDir : '',
    Entrypoint: s.entrypoint.length > 0 ? [...s.entrypoint] : null,
    OnBuild: null,
    Labels: { ...s.labels },
    ...(s.stopSignal !== 'SIGTERM' || c.StopSignal !== undefined ? { StopSignal: s.stopSignal } : {}),
  };
}

export function inspectJSON(r: ContainerRecord, containerDir: string, networks: Record<string, EndpointSettings>, volumeSource: VolumeSource): ContainerJSON {
  const argv = [...r.spec.entrypoint, ...r.spec.cmd];
  const first = Object.values(networks)[0];
  return {
    Id: r.id,
    Created: r.created,
    Path: argv[0] ?? '',
    Args: argv.slice(1),
    State: stateJSON(r),
    Image: r.imageId,
    ResolvConfPath: join(containerDir, 'resolv.conf'),
    HostnamePath: join(containerDir, 'hostname'),
    HostsPath: join(containerDir, 'hosts'),
    LogPath: join(containerDir, `${r.id}-json.log`),
    Name: r.name,
    RestartCount: r.restartCount,
    Driver: 'overlay',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: { ...r.hostConfig },
    GraphDriver: { Name: 'overlay', Data: { UpperDir: join(containerDir, 'upper'), WorkDir: join(containerDir, 'work'), MergedDir: join(containerDir, 'bundle', 'rootfs') } },
    Mounts: mountsOf(r.hostConfig, volumeSource),
    Config: configJSON(r),
    NetworkSettings: {
      Bridge: '', SandboxID: '', SandboxKey: '', Ports: {},
      Gateway: first?.Gateway ?? '', IPAddress: first?.IPAddress ?? '', IPPrefixLen: first?.IPPrefixLen ?? 0, MacAddress: first?.MacAddress ?? '',
      Networks: networks,
    },
  };
}

/** `docker ps` STATUS column (container.State.String()). */
export function statusText(r: ContainerRecord, nowMs: number): string {
  const s = r.state;
  const since = (t: string): string => humanDuration(Math.max(0, nowMs - Date.parse(t)));
  switch (s.status) {
    case 'running':
      return `Up ${since(s.run.startedAt)}`;
    case 'paused':
      return `Up ${since(s.run.startedAt)} (Paused)`;
    case 'restarting':
      return `Restarting (${s.run.exitCode}) ${since(s.run.finishedAt)} ago`;
    case 'removing':
      return 'Removal In Progress';
    case 'dead':
      return 'Dead';
    case 'created':
      return 'Created';
    case 'exited':
      return s.run.finishedAt === ZERO_TIME ? 'Created' : `Exited (${s.run.exitCode}) ${since(s.run.finishedAt)} ago`;
  }
}

export function summaryJSON(r: ContainerRecord, nowMs: number, networks: Record<string, EndpointSettings>, volumeSource: VolumeSource): ContainerSummary {
  return {
    Id: r.id,
    Names: [r.name],
    Image: r.imageRef,
    ImageID: r.imageId,
    Command: [...r.spec.entrypoint, ...r.spec.cmd].join(' '),
    Created: Math.floor(Date.parse(r.created) / 1000),
    Ports: [],
    Labels: { ...r.spec.labels },
    State: r.state.status,
    Status: statusText(r, nowMs),
    HostConfig: { NetworkMode: r.hostConfig.NetworkMode ?? 'none' },
    NetworkSettings: { Networks: networks },
    Mounts: mountsOf(r.hostConfig, volumeSource),
  };
}
