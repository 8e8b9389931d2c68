/**
 * `schemas/ays.capnp` as `parseCapnp` reads it (from `ays_schema_text.ts`), so that ays never
 * parses it at run time. Generated: do not edit. `AYS_WRITE_SCHEMA_TEXT=1 bun test
 * test/capnp/ays_schema_model_test.ts` rewrites it; the test fails while it differs.
 *
 * @module
 */
import type { SchemaFile } from "./model.ts";

/** The parsed `schemas/ays.capnp`. */
export const AYS_SCHEMA_MODEL: SchemaFile = {
  "id": 12457991592459675337n,
  "structs": [
    {
      "name": "Repository",
      "fullName": "Repository",
      "fields": [
        {
          "name": "name",
          "ordinal": 0,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 16,
            "column": 3,
          },
        },
        {
          "name": "path",
          "ordinal": 1,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 17,
            "column": 3,
          },
        },
        {
          "name": "createdAt",
          "ordinal": 2,
          "type": {
            "kind": "Int64",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 18,
            "column": 3,
          },
        },
        {
          "name": "layoutVersion",
          "ordinal": 3,
          "type": {
            "kind": "UInt32",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 20,
            "column": 3,
          },
        },
      ],
      "structs": [],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 15,
        "column": 1,
      },
    },
    {
      "name": "ActorPointer",
      "fullName": "ActorPointer",
      "fields": [
        {
          "name": "name",
          "ordinal": 0,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 24,
            "column": 3,
          },
        },
        {
          "name": "role",
          "ordinal": 1,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 25,
            "column": 3,
          },
        },
      ],
      "structs": [],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 23,
        "column": 1,
      },
    },
    {
      "name": "ServicePointer",
      "fullName": "ServicePointer",
      "fields": [
        {
          "name": "role",
          "ordinal": 0,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 29,
            "column": 3,
          },
        },
        {
          "name": "instance",
          "ordinal": 1,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 30,
            "column": 3,
          },
        },
      ],
      "structs": [],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 28,
        "column": 1,
      },
    },
    {
      "name": "SourceLocation",
      "fullName": "SourceLocation",
      "fields": [
        {
          "name": "file",
          "ordinal": 0,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 34,
            "column": 3,
          },
        },
        {
          "name": "line",
          "ordinal": 1,
          "type": {
            "kind": "UInt32",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 36,
            "column": 3,
          },
        },
        {
          "name": "column",
          "ordinal": 2,
          "type": {
            "kind": "UInt32",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 37,
            "column": 3,
          },
        },
      ],
      "structs": [],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 33,
        "column": 1,
      },
    },
    {
      "name": "FieldSpec",
      "fullName": "FieldSpec",
      "fields": [
        {
          "name": "name",
          "ordinal": 0,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 41,
            "column": 3,
          },
        },
        {
          "name": "camelName",
          "ordinal": 1,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 42,
            "column": 3,
          },
        },
        {
          "name": "type",
          "ordinal": 2,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 43,
            "column": 3,
          },
        },
        {
          "name": "list",
          "ordinal": 3,
          "type": {
            "kind": "Bool",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 44,
            "column": 3,
          },
        },
        {
          "name": "defaultJson",
          "ordinal": 4,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 46,
            "column": 3,
          },
        },
        {
          "name": "description",
          "ordinal": 5,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 47,
            "column": 3,
          },
        },
        {
          "name": "consume",
          "ordinal": 6,
          "type": {
            "kind": "struct",
            "name": "FieldSpec.Consume",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 48,
            "column": 3,
          },
        },
        {
          "name": "parent",
          "ordinal": 7,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 49,
            "column": 3,
          },
        },
        {
          "name": "auto",
          "ordinal": 8,
          "type": {
            "kind": "Bool",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 50,
            "column": 3,
          },
        },
        {
          "name": "optional",
          "ordinal": 9,
          "type": {
            "kind": "Bool",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 51,
            "column": 3,
          },
        },
        {
          "name": "regex",
          "ordinal": 10,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 52,
            "column": 3,
          },
        },
        {
          "name": "minval",
          "ordinal": 11,
          "type": {
            "kind": "Float64",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 53,
            "column": 3,
          },
        },
        {
          "name": "hasMinval",
          "ordinal": 12,
          "type": {
            "kind": "Bool",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 54,
            "column": 3,
          },
        },
        {
          "name": "maxval",
          "ordinal": 13,
          "type": {
            "kind": "Float64",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 55,
            "column": 3,
          },
        },
        {
          "name": "hasMaxval",
          "ordinal": 14,
          "type": {
            "kind": "Bool",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 56,
            "column": 3,
          },
        },
        {
          "name": "singlechoice",
          "ordinal": 15,
          "type": {
            "kind": "List",
            "element": {
              "kind": "Text",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 57,
            "column": 3,
          },
        },
        {
          "name": "multichoice",
          "ordinal": 16,
          "type": {
            "kind": "List",
            "element": {
              "kind": "Text",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 58,
            "column": 3,
          },
        },
        {
          "name": "secret",
          "ordinal": 17,
          "type": {
            "kind": "Bool",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 59,
            "column": 3,
          },
        },
        {
          "name": "aliases",
          "ordinal": 18,
          "type": {
            "kind": "List",
            "element": {
              "kind": "Text",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 60,
            "column": 3,
          },
        },
        {
          "name": "ask",
          "ordinal": 19,
          "type": {
            "kind": "Bool",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 61,
            "column": 3,
          },
        },
        {
          "name": "location",
          "ordinal": 20,
          "type": {
            "kind": "struct",
            "name": "SourceLocation",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 62,
            "column": 3,
          },
        },
      ],
      "structs": [
        {
          "name": "Consume",
          "fullName": "FieldSpec.Consume",
          "fields": [
            {
              "name": "roles",
              "ordinal": 0,
              "type": {
                "kind": "List",
                "element": {
                  "kind": "Text",
                },
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 65,
                "column": 5,
              },
            },
            {
              "name": "min",
              "ordinal": 1,
              "type": {
                "kind": "UInt32",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 66,
                "column": 5,
              },
            },
            {
              "name": "max",
              "ordinal": 2,
              "type": {
                "kind": "UInt32",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 67,
                "column": 5,
              },
            },
          ],
          "structs": [],
          "enums": [],
          "location": {
            "file": "schemas/ays.capnp",
            "line": 64,
            "column": 3,
          },
        },
      ],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 40,
        "column": 1,
      },
    },
    {
      "name": "KeyValue",
      "fullName": "KeyValue",
      "fields": [
        {
          "name": "key",
          "ordinal": 0,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 72,
            "column": 3,
          },
        },
        {
          "name": "value",
          "ordinal": 1,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 73,
            "column": 3,
          },
        },
      ],
      "structs": [],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 71,
        "column": 1,
      },
    },
    {
      "name": "ActorConfig",
      "fullName": "ActorConfig",
      "fields": [
        {
          "name": "recurring",
          "ordinal": 0,
          "type": {
            "kind": "List",
            "element": {
              "kind": "struct",
              "name": "ActorConfig.Recurring",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 77,
            "column": 3,
          },
        },
        {
          "name": "actions",
          "ordinal": 1,
          "type": {
            "kind": "List",
            "element": {
              "kind": "struct",
              "name": "ActorConfig.ActionSettings",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 78,
            "column": 3,
          },
        },
        {
          "name": "flists",
          "ordinal": 2,
          "type": {
            "kind": "List",
            "element": {
              "kind": "struct",
              "name": "KeyValue",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 79,
            "column": 3,
          },
        },
        {
          "name": "events",
          "ordinal": 3,
          "type": {
            "kind": "List",
            "element": {
              "kind": "struct",
              "name": "KeyValue",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 80,
            "column": 3,
          },
        },
        {
          "name": "executor",
          "ordinal": 4,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 82,
            "column": 3,
          },
        },
        {
          "name": "worker",
          "ordinal": 5,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 84,
            "column": 3,
          },
        },
      ],
      "structs": [
        {
          "name": "Recurring",
          "fullName": "ActorConfig.Recurring",
          "fields": [
            {
              "name": "action",
              "ordinal": 0,
              "type": {
                "kind": "Text",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 87,
                "column": 5,
              },
            },
            {
              "name": "period",
              "ordinal": 1,
              "type": {
                "kind": "Float64",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 88,
                "column": 5,
              },
            },
            {
              "name": "log",
              "ordinal": 2,
              "type": {
                "kind": "Bool",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 89,
                "column": 5,
              },
            },
          ],
          "structs": [],
          "enums": [],
          "location": {
            "file": "schemas/ays.capnp",
            "line": 86,
            "column": 3,
          },
        },
        {
          "name": "ActionSettings",
          "fullName": "ActorConfig.ActionSettings",
          "fields": [
            {
              "name": "action",
              "ordinal": 0,
              "type": {
                "kind": "Text",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 94,
                "column": 5,
              },
            },
            {
              "name": "timeout",
              "ordinal": 1,
              "type": {
                "kind": "Float64",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 95,
                "column": 5,
              },
            },
            {
              "name": "hasTimeout",
              "ordinal": 2,
              "type": {
                "kind": "Bool",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 96,
                "column": 5,
              },
            },
            {
              "name": "retries",
              "ordinal": 3,
              "type": {
                "kind": "UInt32",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 97,
                "column": 5,
              },
            },
            {
              "name": "hasRetries",
              "ordinal": 4,
              "type": {
                "kind": "Bool",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 98,
                "column": 5,
              },
            },
            {
              "name": "retryDelay",
              "ordinal": 5,
              "type": {
                "kind": "Float64",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 99,
                "column": 5,
              },
            },
            {
              "name": "hasRetryDelay",
              "ordinal": 6,
              "type": {
                "kind": "Bool",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 100,
                "column": 5,
              },
            },
            {
              "name": "deps",
              "ordinal": 7,
              "type": {
                "kind": "List",
                "element": {
                  "kind": "Text",
                },
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 101,
                "column": 5,
              },
            },
            {
              "name": "producers",
              "ordinal": 8,
              "type": {
                "kind": "Bool",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 102,
                "column": 5,
              },
            },
            {
              "name": "hasProducers",
              "ordinal": 9,
              "type": {
                "kind": "Bool",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 103,
                "column": 5,
              },
            },
            {
              "name": "isolation",
              "ordinal": 10,
              "type": {
                "kind": "Text",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 104,
                "column": 5,
              },
            },
            {
              "name": "memory",
              "ordinal": 11,
              "type": {
                "kind": "Float64",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 106,
                "column": 5,
              },
            },
          ],
          "structs": [],
          "enums": [],
          "location": {
            "file": "schemas/ays.capnp",
            "line": 93,
            "column": 3,
          },
        },
      ],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 76,
        "column": 1,
      },
    },
    {
      "name": "Actor",
      "fullName": "Actor",
      "fields": [
        {
          "name": "name",
          "ordinal": 0,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 111,
            "column": 3,
          },
        },
        {
          "name": "role",
          "ordinal": 1,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 112,
            "column": 3,
          },
        },
        {
          "name": "templatePath",
          "ordinal": 2,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 113,
            "column": 3,
          },
        },
        {
          "name": "fields",
          "ordinal": 3,
          "type": {
            "kind": "List",
            "element": {
              "kind": "struct",
              "name": "FieldSpec",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 114,
            "column": 3,
          },
        },
        {
          "name": "capnpSchema",
          "ordinal": 4,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 115,
            "column": 3,
          },
        },
        {
          "name": "actionsPath",
          "ordinal": 5,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 116,
            "column": 3,
          },
        },
        {
          "name": "actionsHash",
          "ordinal": 6,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 117,
            "column": 3,
          },
        },
        {
          "name": "actionNames",
          "ordinal": 7,
          "type": {
            "kind": "List",
            "element": {
              "kind": "Text",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 118,
            "column": 3,
          },
        },
        {
          "name": "config",
          "ordinal": 8,
          "type": {
            "kind": "struct",
            "name": "ActorConfig",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 119,
            "column": 3,
          },
        },
        {
          "name": "exportedActions",
          "ordinal": 9,
          "type": {
            "kind": "List",
            "element": {
              "kind": "Text",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 121,
            "column": 3,
          },
        },
      ],
      "structs": [],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 110,
        "column": 1,
      },
    },
    {
      "name": "Action",
      "fullName": "Action",
      "fields": [
        {
          "name": "name",
          "ordinal": 0,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 135,
            "column": 3,
          },
        },
        {
          "name": "state",
          "ordinal": 1,
          "type": {
            "kind": "enum",
            "name": "ActionState",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 136,
            "column": 3,
          },
        },
        {
          "name": "period",
          "ordinal": 2,
          "type": {
            "kind": "Float64",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 137,
            "column": 3,
          },
        },
        {
          "name": "lastRun",
          "ordinal": 3,
          "type": {
            "kind": "Int64",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 138,
            "column": 3,
          },
        },
        {
          "name": "hasLastRun",
          "ordinal": 4,
          "type": {
            "kind": "Bool",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 139,
            "column": 3,
          },
        },
        {
          "name": "lastJob",
          "ordinal": 5,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 140,
            "column": 3,
          },
        },
        {
          "name": "argsJson",
          "ordinal": 6,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 142,
            "column": 3,
          },
        },
      ],
      "structs": [],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 134,
        "column": 1,
      },
    },
    {
      "name": "EventFilter",
      "fullName": "EventFilter",
      "fields": [
        {
          "name": "actor",
          "ordinal": 0,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 146,
            "column": 3,
          },
        },
        {
          "name": "service",
          "ordinal": 1,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 147,
            "column": 3,
          },
        },
        {
          "name": "channel",
          "ordinal": 2,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 148,
            "column": 3,
          },
        },
        {
          "name": "cmd",
          "ordinal": 3,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 149,
            "column": 3,
          },
        },
        {
          "name": "secret",
          "ordinal": 4,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 150,
            "column": 3,
          },
        },
        {
          "name": "action",
          "ordinal": 5,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 151,
            "column": 3,
          },
        },
      ],
      "structs": [],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 145,
        "column": 1,
      },
    },
    {
      "name": "ProducerGroup",
      "fullName": "ProducerGroup",
      "fields": [
        {
          "name": "role",
          "ordinal": 0,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 155,
            "column": 3,
          },
        },
        {
          "name": "services",
          "ordinal": 1,
          "type": {
            "kind": "List",
            "element": {
              "kind": "struct",
              "name": "ServicePointer",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 156,
            "column": 3,
          },
        },
      ],
      "structs": [],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 154,
        "column": 1,
      },
    },
    {
      "name": "Service",
      "fullName": "Service",
      "fields": [
        {
          "name": "key",
          "ordinal": 0,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 160,
            "column": 3,
          },
        },
        {
          "name": "instance",
          "ordinal": 1,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 161,
            "column": 3,
          },
        },
        {
          "name": "actor",
          "ordinal": 2,
          "type": {
            "kind": "struct",
            "name": "ActorPointer",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 162,
            "column": 3,
          },
        },
        {
          "name": "parent",
          "ordinal": 3,
          "type": {
            "kind": "struct",
            "name": "ServicePointer",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 163,
            "column": 3,
          },
        },
        {
          "name": "producers",
          "ordinal": 4,
          "type": {
            "kind": "List",
            "element": {
              "kind": "struct",
              "name": "ProducerGroup",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 164,
            "column": 3,
          },
        },
        {
          "name": "consumers",
          "ordinal": 5,
          "type": {
            "kind": "List",
            "element": {
              "kind": "struct",
              "name": "ServicePointer",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 165,
            "column": 3,
          },
        },
        {
          "name": "data",
          "ordinal": 6,
          "type": {
            "kind": "Data",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 167,
            "column": 3,
          },
        },
        {
          "name": "changed",
          "ordinal": 7,
          "type": {
            "kind": "Bool",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 168,
            "column": 3,
          },
        },
        {
          "name": "actions",
          "ordinal": 8,
          "type": {
            "kind": "List",
            "element": {
              "kind": "struct",
              "name": "Action",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 169,
            "column": 3,
          },
        },
        {
          "name": "eventFilters",
          "ordinal": 9,
          "type": {
            "kind": "List",
            "element": {
              "kind": "struct",
              "name": "EventFilter",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 170,
            "column": 3,
          },
        },
      ],
      "structs": [],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 159,
        "column": 1,
      },
    },
    {
      "name": "PlannedJob",
      "fullName": "PlannedJob",
      "fields": [
        {
          "name": "service",
          "ordinal": 0,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 183,
            "column": 3,
          },
        },
        {
          "name": "action",
          "ordinal": 1,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 184,
            "column": 3,
          },
        },
      ],
      "structs": [],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 181,
        "column": 1,
      },
    },
    {
      "name": "Step",
      "fullName": "Step",
      "fields": [
        {
          "name": "jobs",
          "ordinal": 0,
          "type": {
            "kind": "List",
            "element": {
              "kind": "struct",
              "name": "PlannedJob",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 188,
            "column": 3,
          },
        },
      ],
      "structs": [],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 187,
        "column": 1,
      },
    },
    {
      "name": "Run",
      "fullName": "Run",
      "fields": [
        {
          "name": "id",
          "ordinal": 0,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 192,
            "column": 3,
          },
        },
        {
          "name": "repo",
          "ordinal": 1,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 193,
            "column": 3,
          },
        },
        {
          "name": "scope",
          "ordinal": 2,
          "type": {
            "kind": "struct",
            "name": "Run.Scope",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 194,
            "column": 3,
          },
        },
        {
          "name": "steps",
          "ordinal": 3,
          "type": {
            "kind": "List",
            "element": {
              "kind": "struct",
              "name": "Step",
            },
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 195,
            "column": 3,
          },
        },
        {
          "name": "state",
          "ordinal": 4,
          "type": {
            "kind": "enum",
            "name": "RunState",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 196,
            "column": 3,
          },
        },
        {
          "name": "createdAt",
          "ordinal": 5,
          "type": {
            "kind": "Int64",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 197,
            "column": 3,
          },
        },
        {
          "name": "startedAt",
          "ordinal": 6,
          "type": {
            "kind": "Int64",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 198,
            "column": 3,
          },
        },
        {
          "name": "hasStartedAt",
          "ordinal": 7,
          "type": {
            "kind": "Bool",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 199,
            "column": 3,
          },
        },
        {
          "name": "endedAt",
          "ordinal": 8,
          "type": {
            "kind": "Int64",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 200,
            "column": 3,
          },
        },
        {
          "name": "hasEndedAt",
          "ordinal": 9,
          "type": {
            "kind": "Bool",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 201,
            "column": 3,
          },
        },
        {
          "name": "holder",
          "ordinal": 10,
          "type": {
            "kind": "struct",
            "name": "Run.Holder",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 202,
            "column": 3,
          },
        },
      ],
      "structs": [
        {
          "name": "Scope",
          "fullName": "Run.Scope",
          "fields": [
            {
              "name": "role",
              "ordinal": 0,
              "type": {
                "kind": "Text",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 205,
                "column": 5,
              },
            },
            {
              "name": "instance",
              "ordinal": 1,
              "type": {
                "kind": "Text",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 206,
                "column": 5,
              },
            },
            {
              "name": "action",
              "ordinal": 2,
              "type": {
                "kind": "Text",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 207,
                "column": 5,
              },
            },
          ],
          "structs": [],
          "enums": [],
          "location": {
            "file": "schemas/ays.capnp",
            "line": 204,
            "column": 3,
          },
        },
        {
          "name": "Holder",
          "fullName": "Run.Holder",
          "fields": [
            {
              "name": "pid",
              "ordinal": 0,
              "type": {
                "kind": "UInt32",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 211,
                "column": 5,
              },
            },
            {
              "name": "host",
              "ordinal": 1,
              "type": {
                "kind": "Text",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 212,
                "column": 5,
              },
            },
          ],
          "structs": [],
          "enums": [],
          "location": {
            "file": "schemas/ays.capnp",
            "line": 210,
            "column": 3,
          },
        },
      ],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 191,
        "column": 1,
      },
    },
    {
      "name": "Job",
      "fullName": "Job",
      "fields": [
        {
          "name": "id",
          "ordinal": 0,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 226,
            "column": 3,
          },
        },
        {
          "name": "runId",
          "ordinal": 1,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 227,
            "column": 3,
          },
        },
        {
          "name": "service",
          "ordinal": 2,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 229,
            "column": 3,
          },
        },
        {
          "name": "action",
          "ordinal": 3,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 230,
            "column": 3,
          },
        },
        {
          "name": "state",
          "ordinal": 4,
          "type": {
            "kind": "enum",
            "name": "JobState",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 231,
            "column": 3,
          },
        },
        {
          "name": "attempts",
          "ordinal": 5,
          "type": {
            "kind": "UInt32",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 232,
            "column": 3,
          },
        },
        {
          "name": "startedAt",
          "ordinal": 6,
          "type": {
            "kind": "Int64",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 233,
            "column": 3,
          },
        },
        {
          "name": "hasStartedAt",
          "ordinal": 7,
          "type": {
            "kind": "Bool",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 234,
            "column": 3,
          },
        },
        {
          "name": "endedAt",
          "ordinal": 8,
          "type": {
            "kind": "Int64",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 235,
            "column": 3,
          },
        },
        {
          "name": "hasEndedAt",
          "ordinal": 9,
          "type": {
            "kind": "Bool",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 236,
            "column": 3,
          },
        },
        {
          "name": "resultJson",
          "ordinal": 10,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 238,
            "column": 3,
          },
        },
        {
          "name": "error",
          "ordinal": 11,
          "type": {
            "kind": "struct",
            "name": "Job.Error",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 239,
            "column": 3,
          },
        },
        {
          "name": "actionsHash",
          "ordinal": 12,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 240,
            "column": 3,
          },
        },
        {
          "name": "worker",
          "ordinal": 13,
          "type": {
            "kind": "Text",
          },
          "location": {
            "file": "schemas/ays.capnp",
            "line": 242,
            "column": 3,
          },
        },
      ],
      "structs": [
        {
          "name": "Error",
          "fullName": "Job.Error",
          "fields": [
            {
              "name": "message",
              "ordinal": 0,
              "type": {
                "kind": "Text",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 245,
                "column": 5,
              },
            },
            {
              "name": "stack",
              "ordinal": 1,
              "type": {
                "kind": "Text",
              },
              "location": {
                "file": "schemas/ays.capnp",
                "line": 246,
                "column": 5,
              },
            },
          ],
          "structs": [],
          "enums": [],
          "location": {
            "file": "schemas/ays.capnp",
            "line": 244,
            "column": 3,
          },
        },
      ],
      "enums": [],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 225,
        "column": 1,
      },
    },
  ],
  "enums": [
    {
      "name": "ActionState",
      "fullName": "ActionState",
      "enumerants": [
        {
          "name": "new",
          "ordinal": 0,
        },
        {
          "name": "scheduled",
          "ordinal": 1,
        },
        {
          "name": "running",
          "ordinal": 2,
        },
        {
          "name": "ok",
          "ordinal": 3,
        },
        {
          "name": "error",
          "ordinal": 4,
        },
        {
          "name": "changed",
          "ordinal": 5,
        },
        {
          "name": "disabled",
          "ordinal": 6,
        },
      ],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 124,
        "column": 1,
      },
    },
    {
      "name": "RunState",
      "fullName": "RunState",
      "enumerants": [
        {
          "name": "new",
          "ordinal": 0,
        },
        {
          "name": "running",
          "ordinal": 1,
        },
        {
          "name": "ok",
          "ordinal": 2,
        },
        {
          "name": "error",
          "ordinal": 3,
        },
        {
          "name": "cancelled",
          "ordinal": 4,
        },
      ],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 173,
        "column": 1,
      },
    },
    {
      "name": "JobState",
      "fullName": "JobState",
      "enumerants": [
        {
          "name": "new",
          "ordinal": 0,
        },
        {
          "name": "running",
          "ordinal": 1,
        },
        {
          "name": "ok",
          "ordinal": 2,
        },
        {
          "name": "error",
          "ordinal": 3,
        },
        {
          "name": "skipped",
          "ordinal": 4,
        },
        {
          "name": "cancelled",
          "ordinal": 5,
        },
      ],
      "location": {
        "file": "schemas/ays.capnp",
        "line": 216,
        "column": 1,
      },
    },
  ],
  "file": "schemas/ays.capnp",
};
