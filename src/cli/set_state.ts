/**
 * `ays set_state ACTION --state S [ROLE!INSTANCE] [-r] [-i]` (docs/blueprints.md): sets an action's state
 * by hand on the matching services (every service without a filter), in one atomic save.
 *
 * @module
 */
import type { CommandUnknownOpts } from "@commander-js/extra-typings";
import { InputError } from "../errors.ts";
import { ACTION_STATES, type ActionState, ownValue, serviceName } from "../model/mod.ts";
import type { CliContext } from "./context.ts";
import { INSTANCE_OPTION, ROLE_OPTION, selectServices } from "./service_filter.ts";
import { printJson, withSession } from "./session.ts";

/** Adds `ays set_state` to the program. */
export function registerSetState(program: CommandUnknownOpts, ctx: CliContext): void {
  program
    .command("set_state")
    .description("set the state of an action of the matching services by hand")
    .argument("<action>", "the action, e.g. install")
    .argument("[service]", "ROLE!INSTANCE (or ROLE:INSTANCE)")
    .requiredOption("--state <state>", `the new state: ${ACTION_STATES.join(", ")}`)
    .option(...ROLE_OPTION)
    .option(...INSTANCE_OPTION)
    .option("--wait", "wait for a run holding the repository lock instead of failing")
    .action(async (action, target, options, command) => {
      const state = options.state as ActionState;
      if (!ACTION_STATES.includes(state)) {
        throw new InputError(
          `unknown state '${options.state}' (states: ${ACTION_STATES.join(", ")})`,
        );
      }
      await withSession(
        ctx,
        command,
        { write: true, wait: Boolean(options.wait) },
        async (session) => {
          const selected = selectServices(await session.store.loadServices(), {
            target,
            role: options.role,
            instance: options.instance,
            required: true,
          });
          const having = selected.filter((s) => ownValue(s.actions, action) !== undefined);
          if (having.length === 0) {
            throw new InputError(`no matching service has an action '${action}'`);
          }
          const changes: { service: string; from: ActionState; to: ActionState }[] = [];
          const updated = [];
          for (const service of having) {
            const from = service.actions[action].state;
            changes.push({ service: serviceName(service.role, service.name), from, to: state });
            if (from === state) continue;
            const next = structuredClone(service);
            next.actions[action].state = state;
            updated.push(next);
          }
          if (updated.length > 0) await session.store.save({ services: updated });
          if (session.globals.json) {
            printJson(ctx, { action, state, services: changes });
          } else if (!session.globals.quiet) {
            for (const c of changes) {
              ctx.io.stdout(`${c.service} ${action}: ${c.from} → ${c.to}\n`);
            }
          }
        },
      );
    });
}
