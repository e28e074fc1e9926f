// Graceful departure (go-dqlite's App.Handover): give this node's voter or stand-by role to a
// healthy node, hand leadership to another online voter if this node leads, then step down to
// spare, so the cluster keeps its quorum and its write availability when this node stops.
import { type Client, roleName } from "../client/index.js";
import { Role } from "../wire/index.js";
import { ADMIN_TIMEOUT_MS, type AppContext, describeError, pause } from "./app-context.js";
import { AppError } from "./errors.js";
import { handoverRole } from "./roles.js";

/** Limit of a whole handover when the caller gives none (go-dqlite: one minute). */
export const HANDOVER_TIMEOUT_MS = 60_000;
const DEMOTE_RETRY_MS = 1000;

/** Runs the handover; rejects with AppError when no node could take the role or leadership. */
export async function handover(context: AppContext, signal: AbortSignal): Promise<void> {
  let client = await context.findLeader(signal);
  try {
    const probed = await context.probe(await client.cluster({ signal }), signal);
    const change = handoverRole(context.rolesInput(probed), context.id);
    if (change !== null) {
      let promoted = false;
      for (const node of change.candidates) {
        try {
          await client.assign(node.id, change.role, { signal, timeoutMs: ADMIN_TIMEOUT_MS });
          context.logger.info(
            { address: node.address, from: roleName(node.role), to: roleName(change.role) },
            "handed role over",
          );
          promoted = true;
          break;
        } catch (error) {
          if (signal.aborted) throw error;
          context.logger.warn(
            { address: node.address, role: roleName(change.role), error: describeError(error) },
            "promote failed",
          );
        }
      }
      if (!promoted) {
        throw new AppError(`could not promote any online node to ${roleName(change.role)}`);
      }
    }

    const leader = await client.leader({ signal });
    if (leader !== undefined && leader.address === context.address) {
      client = await transferLeadership(context, client, signal);
    }

    if (change === null) return;
    // The new leader may first have to commit an entry of its term before it accepts another
    // configuration change: keep asking until the deadline.
    for (;;) {
      try {
        await client.assign(context.id, Role.Spare, { signal, timeoutMs: ADMIN_TIMEOUT_MS });
        context.logger.info({}, "stepped down to spare");
        return;
      } catch (error) {
        if (signal.aborted) {
          throw new AppError(`demote ourselves: ${describeError(error)}`, { cause: error });
        }
        // With four voters for a moment, the leader's roles round may demote this node before
        // it demotes itself (or remove it): then its own demotion is refused, and it is done.
        if (await alreadySpare(context, client, signal)) {
          context.logger.info({}, "already a spare");
          return;
        }
        if (!(await pause(DEMOTE_RETRY_MS, signal))) {
          throw new AppError(`demote ourselves: ${describeError(error)}`, { cause: error });
        }
        // A new leader may have been elected meanwhile: ask the cluster again.
        client.close();
        client = await context.findLeader(signal);
      }
    }
  } finally {
    client.close();
  }
}

/** Whether the node `client` talks to lists this node as a spare, or not at all. */
async function alreadySpare(
  context: AppContext,
  client: Client,
  signal: AbortSignal,
): Promise<boolean> {
  try {
    const self = (await client.cluster({ signal })).find((node) => node.id === context.id);
    return self === undefined || self.role === Role.Spare;
  } catch {
    return false;
  }
}

/** Hands leadership to an online voter; returns a client on the new leader. */
async function transferLeadership(
  context: AppContext,
  client: Client,
  signal: AbortSignal,
): Promise<Client> {
  const probed = await context.probe(await client.cluster({ signal }), signal);
  const voters = probed.filter(
    (node) => node.role === Role.Voter && node.metadata !== null && node.id !== context.id,
  );
  // A lone voter keeps leadership: there is nobody to give it to.
  if (voters.length === 0) return client;
  let lastError: unknown;
  for (const voter of voters) {
    try {
      await client.transfer(voter.id, { signal, timeoutMs: ADMIN_TIMEOUT_MS });
      context.logger.info({ address: voter.address }, "transferred leadership");
      client.close();
      return await context.findLeader(signal);
    } catch (error) {
      if (signal.aborted) throw error;
      lastError = error;
      context.logger.warn(
        { address: voter.address, error: describeError(error) },
        "transfer leadership failed",
      );
      // A transfer reported as failed may still complete (the target won its election late):
      // once this node no longer leads, leadership has moved and there is nothing left to do.
      const now = await client.leader({ signal }).catch(() => undefined);
      if (now?.address !== context.address) {
        context.logger.info({ address: now?.address ?? "" }, "leadership moved");
        client.close();
        return await context.findLeader(signal);
      }
    }
  }
  throw new AppError(`transfer leadership: ${describeError(lastError)}`, { cause: lastError });
}
