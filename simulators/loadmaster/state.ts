/** The in-memory LoadMaster the simulator serves. Entries keep their insertion order, as on the appliance. */
export interface SimAclEntry {
  addr: string;
  comment: string;
}

export interface SimLists {
  block: SimAclEntry[];
  allow: SimAclEntry[];
}

export interface SimVirtualService extends SimLists {
  index: string;
  address: string;
  port: string;
  protocol: 'tcp' | 'udp';
  nickname: string;
  enabled: boolean;
}

export interface SimState {
  lists: SimLists;
  /** Virtual services by Index. */
  vs: Record<string, SimVirtualService>;
}

export function defaultVirtualServices(): Record<string, SimVirtualService> {
  const make = (index: string, address: string, port: string, protocol: 'tcp' | 'udp', nickname: string) => ({
    index,
    address,
    port,
    protocol,
    nickname,
    enabled: true,
    block: [],
    allow: [],
  });
  return {
    '1': make('1', '192.0.2.10', '443', 'tcp', 'web-https'),
    '2': make('2', '192.0.2.10', '80', 'tcp', 'web-http'),
    '3': make('3', '192.0.2.53', '53', 'udp', 'dns'),
  };
}
