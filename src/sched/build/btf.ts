/**
 * Just enough of BTF (the .BTF section clang emits) to find a struct's members and a data
 * section's variables: the static checks need the offset of sched_ext_ops.name and of each
 * callback member inside the ops variable.
 */
export const BTF_KIND = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19 } as const;

export interface BtfType {
  id: number;
  kind: number;
  name: string;
  /** size for STRUCT/UNION/DATASEC/INT..., the referenced type id for PTR/TYPEDEF/VAR/CONST... */
  sizeOrType: number;
  members: { name: string; type: number; offset: number }[];
}

const TRAILER: Record<number, (vlen: number) => number> = {
  [BTF_KIND.INT]: () => 4,
  [BTF_KIND.ARRAY]: () => 12,
  [BTF_KIND.STRUCT]: (v) => 12 * v,
  [BTF_KIND.UNION]: (v) => 12 * v,
  [BTF_KIND.ENUM]: (v) => 8 * v,
  [BTF_KIND.FUNC_PROTO]: (v) => 8 * v,
  [BTF_KIND.VAR]: () => 4,
  [BTF_KIND.DATASEC]: (v) => 12 * v,
  [BTF_KIND.DECL_TAG]: () => 4,
  [BTF_KIND.ENUM64]: (v) => 12 * v,
};

export function parseBtf(data: Buffer): BtfType[] {
  const little = data.readUInt16LE(0) === 0xeb9f;
  if (!little && data.readUInt16BE(0) !== 0xeb9f) throw new Error('not BTF data (bad magic)');
  const u32 = (at: number) => (little ? data.readUInt32LE(at) : data.readUInt32BE(at));
  const hdrLen = u32(4);
  const typeStart = hdrLen + u32(8);
  const typeEnd = typeStart + u32(12);
  const strStart = hdrLen + u32(16);
  const str = (off: number) => {
    const end = data.indexOf(0, strStart + off);
    return data.toString('latin1', strStart + off, end);
  };
  const types: BtfType[] = [{ id: 0, kind: 0, name: 'void', sizeOrType: 0, members: [] }];
  for (let at = typeStart; at < typeEnd; ) {
    const info = u32(at + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kflag = info >>> 31;
    const type: BtfType = { id: types.length, kind, name: str(u32(at)), sizeOrType: u32(at + 8), members: [] };
    const body = at + 12;
    if (kind === BTF_KIND.STRUCT || kind === BTF_KIND.UNION) {
      for (let i = 0; i < vlen; i++) {
        const m = body + 12 * i;
        const offset = u32(m + 8);
        type.members.push({ name: str(u32(m)), type: u32(m + 4), offset: kflag ? offset & 0xffffff : offset });
      }
    } else if (kind === BTF_KIND.DATASEC) {
      for (let i = 0; i < vlen; i++) {
        const v = body + 12 * i;
        type.members.push({ name: '', type: u32(v), offset: u32(v + 4) });
      }
    }
    types.push(type);
    at = body + (TRAILER[kind]?.(vlen) ?? 0);
  }
  return types;
}

/** Follow typedef/const/volatile/restrict/type_tag to the underlying type. */
export function resolveType(types: BtfType[], id: number): BtfType {
  let t = types[id];
  const skip = new Set<number>([BTF_KIND.TYPEDEF, BTF_KIND.CONST, BTF_KIND.VOLATILE, BTF_KIND.RESTRICT, BTF_KIND.TYPE_TAG]);
  while (t && skip.has(t.kind)) t = types[t.sizeOrType];
  return t;
}
