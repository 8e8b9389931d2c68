# ays' own models (docs/capnp.md): every object the store keeps is a message of one of these structs.
# The shapes follow src/model/types.ts; src/capnp/ays_models.ts converts between the two.
#
# Conventions:
# - Times are epoch milliseconds (Int64); durations and periods are seconds.
# - An optional text, list or struct is absent when its pointer is null.
# - An optional number comes with a `has…` flag, because 0 is a real value.
# - Services are named by ServicePointer (role and instance), or by "role!instance" text where a
#   record only echoes a plan.
# - Service data is encoded with the actor's own schema and kept here as Data.
#
# Keep src/capnp/ays_schema_text.ts in sync (test/capnp/ays_models_test.ts checks it).
@0xace3ad591b5ca6c9;

struct Repository {
  name @0 :Text;
  path @1 :Text;
  createdAt @2 :Int64;
  # The version of the store layout that wrote it.
  layoutVersion @3 :UInt32;
}

struct ActorPointer {
  name @0 :Text;
  role @1 :Text;
}

struct ServicePointer {
  role @0 :Text;
  instance @1 :Text;
}

struct SourceLocation {
  file @0 :Text;
  # 0 when unknown.
  line @1 :UInt32;
  column @2 :UInt32;
}

struct FieldSpec {
  name @0 :Text;
  camelName @1 :Text;
  type @2 :Text;
  list @3 :Bool;
  # JSON of the parsed default; absent when the field has none.
  defaultJson @4 :Text;
  description @5 :Text;
  consume @6 :Consume;
  parent @7 :Text;
  auto @8 :Bool;
  optional @9 :Bool;
  regex @10 :Text;
  minval @11 :Float64;
  hasMinval @12 :Bool;
  maxval @13 :Float64;
  hasMaxval @14 :Bool;
  singlechoice @15 :List(Text);
  multichoice @16 :List(Text);
  secret @17 :Bool;
  aliases @18 :List(Text);
  ask @19 :Bool;
  location @20 :SourceLocation;

  struct Consume {
    roles @0 :List(Text);
    min @1 :UInt32;
    max @2 :UInt32;
  }
}

struct KeyValue {
  key @0 :Text;
  value @1 :Text;
}

struct ActorConfig {
  recurring @0 :List(Recurring);
  actions @1 :List(ActionSettings);
  flists @2 :List(KeyValue);
  events @3 :List(KeyValue);
  # "local": the actor's jobs run on the machine ays runs on (docs/executors.md); absent: none.
  executor @4 :Text;
  # The fleet label its jobs go to (docs/fleet.md); absent: the nearest ancestor's, or none.
  worker @5 :Text;

  struct Recurring {
    action @0 :Text;
    period @1 :Float64;
    log @2 :Bool;
  }

  # Every setting is optional (a Partial in types.ts).
  struct ActionSettings {
    action @0 :Text;
    timeout @1 :Float64;
    hasTimeout @2 :Bool;
    retries @3 :UInt32;
    hasRetries @4 :Bool;
    retryDelay @5 :Float64;
    hasRetryDelay @6 :Bool;
    deps @7 :List(Text);
    producers @8 :Bool;
    hasProducers @9 :Bool;
    isolation @10 :Text;
    # Bytes a job may use with isolation "process"; 0 when not given.
    memory @11 :Float64;
  }
}

struct Actor {
  name @0 :Text;
  role @1 :Text;
  templatePath @2 :Text;
  fields @3 :List(FieldSpec);
  capnpSchema @4 :Text;
  actionsPath @5 :Text;
  actionsHash @6 :Text;
  actionNames @7 :List(Text);
  config @8 :ActorConfig;
  # The actions the file really exports; absent in actors stored before this field existed.
  exportedActions @9 :List(Text);
}

enum ActionState {
  new @0;
  scheduled @1;
  running @2;
  ok @3;
  error @4;
  changed @5;
  disabled @6;
}

struct Action {
  name @0 :Text;
  state @1 :ActionState;
  period @2 :Float64;
  lastRun @3 :Int64;
  hasLastRun @4 :Bool;
  lastJob @5 :Text;
  # JSON of the arguments for the next job of this action (job.args); absent when none.
  argsJson @6 :Text;
}

struct EventFilter {
  actor @0 :Text;
  service @1 :Text;
  channel @2 :Text;
  cmd @3 :Text;
  secret @4 :Text;
  action @5 :Text;
}

struct ProducerGroup {
  role @0 :Text;
  services @1 :List(ServicePointer);
}

struct Service {
  key @0 :Text;
  instance @1 :Text;
  actor @2 :ActorPointer;
  parent @3 :ServicePointer;
  producers @4 :List(ProducerGroup);
  consumers @5 :List(ServicePointer);
  # Encoded with the actor's schema (its capnpSchema).
  data @6 :Data;
  changed @7 :Bool;
  actions @8 :List(Action);
  eventFilters @9 :List(EventFilter);
}

enum RunState {
  new @0;
  running @1;
  ok @2;
  error @3;
  cancelled @4;
}

struct PlannedJob {
  # "role!instance".
  service @0 :Text;
  action @1 :Text;
}

struct Step {
  jobs @0 :List(PlannedJob);
}

struct Run {
  id @0 :Text;
  repo @1 :Text;
  scope @2 :Scope;
  steps @3 :List(Step);
  state @4 :RunState;
  createdAt @5 :Int64;
  startedAt @6 :Int64;
  hasStartedAt @7 :Bool;
  endedAt @8 :Int64;
  hasEndedAt @9 :Bool;
  holder @10 :Holder;

  struct Scope {
    role @0 :Text;
    instance @1 :Text;
    action @2 :Text;
  }

  struct Holder {
    pid @0 :UInt32;
    host @1 :Text;
  }
}

enum JobState {
  new @0;
  running @1;
  ok @2;
  error @3;
  skipped @4;
  cancelled @5;
}

struct Job {
  id @0 :Text;
  runId @1 :Text;
  # "role!instance".
  service @2 :Text;
  action @3 :Text;
  state @4 :JobState;
  attempts @5 :UInt32;
  startedAt @6 :Int64;
  hasStartedAt @7 :Bool;
  endedAt @8 :Int64;
  hasEndedAt @9 :Bool;
  # JSON of the action's return value; absent when it returned nothing.
  resultJson @10 :Text;
  error @11 :Error;
  actionsHash @12 :Text;
  # The fleet worker that ran the last attempt; absent for the local pool.
  worker @13 :Text;

  struct Error {
    message @0 :Text;
    stack @1 :Text;
  }
}
