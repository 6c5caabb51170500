import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chooseAccel, cpuFlags, kvmUnusableReason, type AccelProbe } from '../../../../src/core/vm/choose-accel.js';
import { FailedPrecondition, InvalidArgument } from '../../../../src/lib/errors.js';

// Shaped like real /proc/cpuinfo: several processor blocks, flags on one long line.
function cpuinfo(flags: string, vendor = 'GenuineIntel', model = 'Intel(R) Xeon(R) CPU E5-2680 v4 @ 2.40GHz'): string {
  const block = (n: number): string =>
    [
      `processor\t: ${n}`, `vendor_id\t: ${vendor}`, 'cpu family\t: 6', 'model\t\t: 79', `model name\t: ${model}`,
      'stepping\t: 1', 'cpu MHz\t\t: 2399.998', 'cache size\t: 35840 KB', `flags\t\t: ${flags}`,
      'bugs\t\t: cpu_meltdown spectre_v1 spectre_v2', 'bogomips\t: 4799.99', 'address sizes\t: 46 bits physical, 48 bits virtual', '',
    ].join('\n');
  return block(0) + '\n' + block(1);
}
const INTEL_VMX = cpuinfo('fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx pdpe1gb rdtscp lm constant_tsc arch_perfmon pebs bts rep_good nopl xtopology nonstop_tsc cpuid aperfmperf pni pclmulqdq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 sdbg fma cx16 xtpr pdcm pcid dca sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand lahf_lm abm 3dnowprefetch cpuid_fault epb invpcid_single pti intel_ppin tpr_shadow vnmi flexpriority ept vpid ept_ad fsgsbase');
const AMD_SVM = cpuinfo('fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl nonstop_tsc cpuid extd_apicid aperfmperf pni pclmulqdq monitor ssse3 fma cx16 sse4_1 sse4_2 movbe popcnt aes xsave avx f16c rdrand lahf_lm cmp_legacy svm extapic cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw skinit wdt tce topoext perfctr_core npt lbrv svm_lock nrip_save', 'AuthenticAMD', 'AMD EPYC 7763 64-Core Processor');
// This machine's kind: a cloud VM (hypervisor flag), AMD, no svm; "vmmcall" must not count as svm/vmx.
const CLOUD_NONE = cpuinfo('fpu vme de pse tsc msr pae mce cx8 apic sep pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext lm constant_tsc rep_good nopl xtopology tsc_reliable nonstop_tsc cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt tsc_deadline_timer aes xsave avx f16c rdrand hypervisor lahf_lm cr8_legacy misalignsse 3dnowprefetch topoext pti        vmmcall bmi1 avx2 bmi2 erms avx512f', 'AuthenticAMD', 'AMD EPYC');

const probe = (cpu: string, over: Partial<AccelProbe> = {}): AccelProbe => ({ cpuinfo: cpu, kvmPvmLoaded: false, devKvmUsable: true, ...over });

test('cpuFlags reads the first flags line as a set of words', () => {
  const f = cpuFlags(INTEL_VMX);
  assert.ok(f.has('vmx') && f.has('sse4_2') && !f.has('svm'));
  assert.ok(cpuFlags(AMD_SVM).has('svm'));
  assert.ok(!cpuFlags(CLOUD_NONE).has('svm') && cpuFlags(CLOUD_NONE).has('vmmcall'));
  assert.equal(cpuFlags('').size, 0);
});

test('auto picks KVM with vmx or svm, a usable /dev/kvm and no PVM module', () => {
  assert.equal(chooseAccel('auto', probe(INTEL_VMX)).accel, 'kvm');
  assert.equal(chooseAccel('auto', probe(AMD_SVM)).accel, 'kvm');
  assert.equal(chooseAccel('kvm', probe(AMD_SVM)).accel, 'kvm');
});

test('auto falls back to TCG and says why: no vmx/svm, PVM, /dev/kvm unusable', () => {
  const none = chooseAccel('auto', probe(CLOUD_NONE));
  assert.equal(none.accel, 'tcg');
  assert.match(none.reason, /no vmx or svm/);
  // PVM hosts may well pass the flag test: the module decides.
  const pvm = chooseAccel('auto', probe(AMD_SVM, { kvmPvmLoaded: true }));
  assert.equal(pvm.accel, 'tcg');
  assert.match(pvm.reason, /PVM/);
  const noDev = chooseAccel('auto', probe(INTEL_VMX, { devKvmUsable: false }));
  assert.equal(noDev.accel, 'tcg');
  assert.match(noDev.reason, /\/dev\/kvm/);
  assert.equal(kvmUnusableReason(probe(INTEL_VMX)), undefined);
});

test('kvm requested where it does not work is a FailedPrecondition naming the reason, not a hang', () => {
  assert.throws(() => chooseAccel('kvm', probe(CLOUD_NONE, { kvmPvmLoaded: true })), (e: unknown) => e instanceof FailedPrecondition && /PVM/.test(e.message) && e.subject === '--accel kvm');
  assert.throws(() => chooseAccel('kvm', probe(CLOUD_NONE)), (e: unknown) => e instanceof FailedPrecondition && /vmx or svm/.test(e.message));
  assert.throws(() => chooseAccel('kvm', probe(INTEL_VMX, { devKvmUsable: false })), FailedPrecondition);
});

test('tcg is always honoured; unknown requests are InvalidArgument', () => {
  assert.equal(chooseAccel('tcg', probe(INTEL_VMX)).accel, 'tcg');
  assert.throws(() => chooseAccel('hvf' as never, probe(INTEL_VMX)), InvalidArgument);
});
