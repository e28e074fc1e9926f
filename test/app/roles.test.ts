// The roles algorithm of go-dqlite's app package, rule by rule, on made-up clusters.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  adjustRoles,
  assumeRole,
  handoverRole,
  type ProbedNode,
  type RolesInput,
  sortCandidates,
  sortVotersToDemote,
} from "../../src/app/roles.js";
import { Role } from "../../src/wire/index.js";

const V = Role.Voter;
const S = Role.StandBy;
const P = Role.Spare;

/** A member: online unless `offline`, in failure domain `domain`, with `weight`. */
function node(
  id: number,
  role: Role,
  options: { domain?: number; weight?: number; offline?: boolean } = {},
): ProbedNode {
  return {
    id: BigInt(id),
    address: `10.0.0.${id}:9000`,
    role,
    metadata: options.offline
      ? null
      : { failureDomain: BigInt(options.domain ?? 0), weight: BigInt(options.weight ?? 0) },
  };
}

/** A seeded generator (mulberry32) so tie-breaks are reproducible. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function input(nodes: ProbedNode[], voters = 3, standbys = 3, seed = 1): RolesInput {
  return { nodes, voters, standbys, random: seeded(seed) };
}

const ids = (nodes: { id: bigint }[]): number[] => nodes.map((n) => Number(n.id));

// --- Assume -------------------------------------------------------------------------------------

test("assume: a cluster of fewer than three nodes changes nothing", () => {
  assert.equal(assumeRole(input([node(1, V), node(2, P)]), 2n), null);
});

test("assume: a node that is not a member (removed) changes nothing", () => {
  assert.equal(assumeRole(input([node(1, V), node(2, P), node(3, P)]), 9n), null);
});

test("assume: a node already voter or stand-by keeps its role", () => {
  const nodes = [node(1, V), node(2, S), node(3, P), node(4, P)];
  assert.equal(assumeRole(input(nodes), 1n), null);
  assert.equal(assumeRole(input(nodes), 2n), null);
});

test("assume: enough online voters and stand-bys leaves a spare as it is", () => {
  const nodes = [node(1, V), node(2, V), node(3, V), node(4, S), node(5, P)];
  assert.equal(assumeRole(input(nodes, 3, 1), 5n), null);
});

test("assume: too few online voters makes the node a voter", () => {
  const nodes = [node(1, V), node(2, V), node(3, P)];
  assert.deepEqual(assumeRole(input(nodes), 3n), { role: V, alsoPromote: [] });
});

test("assume: offline voters do not count", () => {
  const nodes = [node(1, V), node(2, V), node(3, V, { offline: true }), node(4, P)];
  assert.equal(assumeRole(input(nodes), 4n)?.role, V);
});

test("assume: enough voters but too few stand-bys makes the node a stand-by", () => {
  const nodes = [node(1, V), node(2, V), node(3, V), node(4, P)];
  assert.deepEqual(assumeRole(input(nodes), 4n), { role: S, alsoPromote: [] });
});

test("assume: next to a lone voter the node also promotes another online non-voter", () => {
  // The third node of a new cluster: node 1 founded it, node 2 joined as a spare.
  const nodes = [node(1, V), node(2, P), node(3, P), node(4, S), node(5, P, { offline: true })];
  const decision = assumeRole(input(nodes), 3n);
  assert.equal(decision?.role, V);
  // Stand-bys before spares; never itself, never a voter, never an offline node.
  assert.deepEqual(ids(decision?.alsoPromote ?? []), [4, 2]);
});

test("assume: with two online voters there is no extra promotion", () => {
  const nodes = [node(1, V), node(2, V), node(3, P), node(4, P)];
  assert.deepEqual(assumeRole(input(nodes), 3n)?.alsoPromote, []);
});

// --- Adjust -------------------------------------------------------------------------------------

test("adjust rule 1: a one-node cluster has nothing to adjust", () => {
  assert.equal(adjustRoles(input([node(1, V)]), 1n), null);
});

test("adjust rule 2: a two-node cluster keeps only the leader as voter", () => {
  assert.deepEqual(adjustRoles(input([node(1, V), node(2, V)]), 1n), {
    role: P,
    candidates: [{ id: 2n, address: "10.0.0.2:9000", role: V }],
  });
  // Even an offline second voter is demoted; a spare is left alone.
  assert.equal(adjustRoles(input([node(1, V), node(2, V, { offline: true })]), 1n)?.role, P);
  assert.equal(adjustRoles(input([node(1, V), node(2, P)]), 1n), null);
});

test("adjust rule 3: a domain with nodes but no voter gets one while another domain has two", () => {
  const nodes = [
    node(1, V, { domain: 1 }),
    node(2, V, { domain: 1 }),
    node(3, V, { domain: 2 }),
    node(4, P, { domain: 3, weight: 5 }),
    node(5, S, { domain: 3, weight: 9 }),
    node(6, P, { domain: 3, weight: 1 }),
    node(7, P, { domain: 1 }),
  ];
  const change = adjustRoles(input(nodes, 3, 1), 1n);
  assert.equal(change?.role, V);
  // Only nodes of the empty domain, by weight (all are outside the voters' domains).
  assert.deepEqual(ids(change?.candidates ?? []), [6, 4, 5]);
});

test("adjust rule 3 needs a crowded domain: one voter per domain is spread enough", () => {
  // Three domains with voters, a fourth domain only with a spare: 3 domains = 3 voters.
  const nodes = [
    node(1, V, { domain: 1 }),
    node(2, V, { domain: 2 }),
    node(3, V, { domain: 3 }),
    node(4, P, { domain: 4 }),
  ];
  assert.equal(adjustRoles(input(nodes, 3, 0), 1n), null);
});

test("adjust rule 3: a domain whose nodes are all offline does not count", () => {
  const nodes = [
    node(1, V, { domain: 1 }),
    node(2, V, { domain: 1 }),
    node(3, V, { domain: 2 }),
    node(4, S, { domain: 3, offline: true }),
  ];
  // No voter is moved to domain 3; rule 10 demotes the offline stand-by instead.
  assert.deepEqual(adjustRoles(input(nodes, 3, 0), 1n), {
    role: P,
    candidates: [{ id: 4n, address: "10.0.0.4:9000", role: S }],
  });
});

test("adjust rule 4: the wanted numbers, all online, change nothing", () => {
  const nodes = [node(1, V), node(2, V), node(3, V), node(4, S), node(5, S), node(6, S)];
  assert.equal(adjustRoles(input(nodes), 1n), null);
});

test("adjust rule 5: too few online voters promotes stand-bys before spares", () => {
  const nodes = [node(1, V), node(2, V), node(3, P), node(4, S), node(5, P)];
  const change = adjustRoles(input(nodes), 1n);
  assert.equal(change?.role, V);
  assert.equal(change?.candidates[0].id, 4n);
  assert.deepEqual(
    ids(change?.candidates ?? [])
      .slice(1)
      .sort(),
    [3, 5],
  );
});

test("adjust rule 5: candidates outside the voters' domains come first, then lower weight", () => {
  const nodes = [
    node(1, V, { domain: 1 }),
    node(2, V, { domain: 2 }),
    node(3, S, { domain: 1, weight: 0 }),
    node(4, P, { domain: 3, weight: 7 }),
    node(5, P, { domain: 3, weight: 2 }),
    node(6, P, { domain: 2, weight: 1 }),
  ];
  const change = adjustRoles(input(nodes), 1n);
  assert.deepEqual(ids(change?.candidates ?? []), [5, 4, 3, 6]);
});

test("adjust rule 5: no online candidate means nothing to do, even with offline voters", () => {
  const nodes = [
    node(1, V),
    node(2, V),
    node(3, V, { offline: true }),
    node(4, P, { offline: true }),
  ];
  assert.equal(adjustRoles(input(nodes), 1n), null);
});

test("adjust rule 6: too many online voters demotes one, never the leader", () => {
  const nodes = [
    node(1, V, { domain: 1, weight: 9 }),
    node(2, V, { domain: 1, weight: 1 }),
    node(3, V, { domain: 1, weight: 5 }),
    node(4, V, { domain: 2, weight: 8 }),
    node(5, V, { domain: 3 }),
  ];
  const change = adjustRoles(input(nodes, 3, 0), 1n);
  assert.equal(change?.role, P);
  // Domain 1 has most voters: its nodes first, heaviest first; the leader (1) is not a candidate.
  assert.deepEqual(ids(change?.candidates ?? []).slice(0, 2), [3, 2]);
  assert.deepEqual(
    ids(change?.candidates ?? [])
      .slice(2)
      .sort(),
    [4, 5],
  );
});

test("adjust rule 7: offline voters are demoted once there are enough online ones", () => {
  const nodes = [node(1, V), node(2, V), node(3, V), node(4, V, { offline: true })];
  assert.deepEqual(adjustRoles(input(nodes, 3, 0), 1n), {
    role: P,
    candidates: [{ id: 4n, address: "10.0.0.4:9000", role: V }],
  });
});

test("adjust rule 8: too few online stand-bys promotes spares, spread over domains", () => {
  const nodes = [
    node(1, V, { domain: 1 }),
    node(2, V, { domain: 2 }),
    node(3, V, { domain: 3 }),
    node(4, S, { domain: 1 }),
    node(5, P, { domain: 1 }),
    node(6, P, { domain: 2, weight: 3 }),
  ];
  const change = adjustRoles(input(nodes), 1n);
  assert.equal(change?.role, S);
  assert.deepEqual(ids(change?.candidates ?? []), [6, 5]);
});

test("adjust rule 8: no online spare means nothing to do", () => {
  const nodes = [node(1, V), node(2, V), node(3, V), node(4, P, { offline: true })];
  assert.equal(adjustRoles(input(nodes), 1n), null);
});

test("adjust rule 9: too many online stand-bys demotes one", () => {
  const nodes = [node(1, V), node(2, V), node(3, V), node(4, S), node(5, S)];
  const change = adjustRoles(input(nodes, 3, 1), 1n);
  assert.equal(change?.role, P);
  assert.deepEqual(ids(change?.candidates ?? []).sort(), [4, 5]);
});

test("adjust rule 10: offline stand-bys are demoted", () => {
  const nodes = [node(1, V), node(2, V), node(3, V), node(4, S), node(5, S, { offline: true })];
  assert.deepEqual(adjustRoles(input(nodes, 3, 1), 1n), {
    role: P,
    candidates: [{ id: 5n, address: "10.0.0.5:9000", role: S }],
  });
});

test("adjust: applied change by change, a cluster of seven settles to 3 voters and 3 stand-bys", () => {
  let nodes = [node(1, V), ...[2, 3, 4, 5, 6, 7].map((id) => node(id, P))];
  for (let round = 0; round < 20; round++) {
    const change = adjustRoles(input(nodes, 3, 3, round), 1n);
    if (change === null) break;
    const target = change.candidates[0].id;
    nodes = nodes.map((n) => (n.id === target ? { ...n, role: change.role } : n));
  }
  const count = (role: Role) => nodes.filter((n) => n.role === role).length;
  assert.deepEqual([count(V), count(S), count(P)], [3, 3, 1]);
  assert.equal(adjustRoles(input(nodes), 1n), null);
});

test("adjust: a node id listed twice is refused", () => {
  assert.throws(() => adjustRoles(input([node(1, V), node(1, P)]), 1n), RangeError);
});

// --- Handover -----------------------------------------------------------------------------------

test("handover: a spare or a non-member has nothing to hand over", () => {
  const nodes = [node(1, V), node(2, V), node(3, V), node(4, P)];
  assert.equal(handoverRole(input(nodes), 4n), null);
  assert.equal(handoverRole(input(nodes), 9n), null);
});

test("handover: a voter hands over to online stand-bys, then spares", () => {
  const nodes = [
    node(1, V),
    node(2, V),
    node(3, V),
    node(4, P),
    node(5, S),
    node(6, S, { offline: true }),
  ];
  const change = handoverRole(input(nodes), 1n);
  assert.equal(change?.role, V);
  assert.deepEqual(ids(change?.candidates ?? []), [5, 4]);
});

test("handover: candidates outside the other voters' domains come first", () => {
  const nodes = [
    node(1, V, { domain: 3 }),
    node(2, V, { domain: 1 }),
    node(3, V, { domain: 2 }),
    node(4, S, { domain: 1 }),
    node(5, P, { domain: 3, weight: 4 }),
  ];
  // Node 1 leaves domain 3 without a voter: the spare there beats the stand-by in domain 1.
  assert.deepEqual(ids(handoverRole(input(nodes), 1n)?.candidates ?? []), [5, 4]);
});

test("handover: a stand-by hands over to spares only", () => {
  const nodes = [node(1, V), node(2, V), node(3, V), node(4, S), node(5, S), node(6, P)];
  assert.deepEqual(handoverRole(input(nodes), 4n), {
    role: S,
    candidates: [{ id: 6n, address: "10.0.0.6:9000", role: P }],
  });
});

test("handover: nobody online to take the role", () => {
  const nodes = [node(1, V), node(2, V), node(3, V), node(4, P, { offline: true })];
  assert.equal(handoverRole(input(nodes), 1n), null);
});

// --- Sorting ------------------------------------------------------------------------------------

test("sortCandidates: other domains first, then ascending weight", () => {
  const sorted = sortCandidates(
    [
      [node(1, P, { domain: 1, weight: 0 }), node(2, P, { domain: 2, weight: 5 })],
      [node(3, P, { domain: 2, weight: 1 }), node(4, P, { domain: 1, weight: 0 })],
    ],
    new Set([1n]),
    seeded(7),
  );
  assert.deepEqual(ids(sorted), [3, 2, 1, 4]);
});

test("sortCandidates: equal candidates come in a seed-dependent order, groups stay in order", () => {
  const group1 = [1, 2, 3, 4].map((id) => node(id, S));
  const group2 = [5, 6, 7, 8].map((id) => node(id, P));
  const orders = new Set<string>();
  for (let seed = 0; seed < 50; seed++) {
    const sorted = ids(sortCandidates([group1, group2], new Set(), seeded(seed)));
    assert.deepEqual(sorted.slice(0, 4).sort(), [1, 2, 3, 4]);
    assert.deepEqual(sorted.slice(4).sort(), [5, 6, 7, 8]);
    orders.add(sorted.join(","));
    // Same seed, same order.
    assert.deepEqual(ids(sortCandidates([group1, group2], new Set(), seeded(seed))), sorted);
  }
  assert.ok(orders.size > 10, `only ${orders.size} different orders`);
});

test("sortVotersToDemote: the most crowded domain first, heaviest first inside it", () => {
  const voters = [
    node(1, V, { domain: 2, weight: 1 }),
    node(2, V, { domain: 1, weight: 1 }),
    node(3, V, { domain: 1, weight: 3 }),
    node(4, V, { domain: 1, weight: 2 }),
    node(5, V, { domain: 2, weight: 4 }),
    node(6, V, { domain: 3, weight: 9 }),
  ];
  assert.deepEqual(ids(sortVotersToDemote(voters, seeded(3))), [3, 4, 2, 5, 1, 6]);
});
