// BGP error codes (RFC 4271 §4.5, RFC 4486 Cease subcodes) and the one error the codec
// throws. Decoding is total: any byte string either decodes or raises BgpError, whose
// code/subcode/data are exactly what goes into the NOTIFICATION that resets the session.

export const ErrCode = {
  Header: 1,
  Open: 2,
  Update: 3,
  HoldTimerExpired: 4,
  Fsm: 5,
  Cease: 6,
  RouteRefresh: 7,
} as const;

export const HeaderSub = { NotSynchronized: 1, BadLength: 2, BadType: 3 } as const;

export const OpenSub = {
  Unspecific: 0,
  UnsupportedVersion: 1,
  BadPeerAs: 2,
  BadBgpId: 3,
  UnsupportedOptionalParam: 4,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
} as const;

export const UpdateSub = {
  MalformedAttributeList: 1,
  UnrecognizedWellKnown: 2,
  MissingWellKnown: 3,
  AttributeFlags: 4,
  AttributeLength: 5,
  InvalidOrigin: 6,
  InvalidNextHop: 8,
  OptionalAttribute: 9,
  InvalidNetwork: 10,
  MalformedAsPath: 11,
} as const;

export const CeaseSub = {
  MaxPrefixes: 1,
  AdminShutdown: 2,
  PeerDeconfigured: 3,
  AdminReset: 4,
  ConnectionRejected: 5,
  OtherConfigChange: 6,
  CollisionResolution: 7,
  OutOfResources: 8,
} as const;

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};

export function describeNotification(code: number, subcode: number): string {
  return `${CODE_NAMES[code] ?? `code ${code}`} (subcode ${subcode})`;
}

/** A protocol error that ends the session with NOTIFICATION code/subcode/data. */
export class BgpError extends Error {
  override readonly name = 'BgpError';
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;

  constructor(code: number, subcode: number, message: string, data?: Uint8Array) {
    super(`${describeNotification(code, subcode)}: ${message}`);
    this.code = code;
    this.subcode = subcode;
    this.data = data ?? new Uint8Array(0);
  }
}
