// The 'cpu-ref' device: every op and every compiled Function runs on the reference interpreter.
// Slow but exact by definition; the oracle other devices are tested against.
import { evalPrimitive, interpret } from '../ir/interpret.js';
import type { HostArray } from '../ir/array.js';
import type { Device, DeviceBuffer, Executable } from './device.js';
import { registerDevice } from './device.js';

export function createCpuRefDevice(): Device {
  const host = (b: DeviceBuffer) => b as HostArray;
  return {
    name: 'cpu-ref',
    upload: (a) => a,
    read: async (b) => host(b),
    readSync: (b) => host(b),
    execute: (prim, inputs, attrs, regions) => evalPrimitive(prim, inputs.map(host), attrs, regions),
    compile(fn): Executable {
      return { fn, run: (inputs) => interpret(fn, inputs.map(host)) };
    },
    dispose() {},
  };
}

registerDevice('cpu-ref', createCpuRefDevice);
