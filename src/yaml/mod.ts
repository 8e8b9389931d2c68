/**
 * Reading YAML files: positions, depth and alias checks shared by every YAML reader of ays.
 *
 * @module
 */
export { MAX_YAML_DEPTH, parseYaml, type ParseYamlOptions, type YamlText } from "./parse_yaml.ts";
export { MAX_ALIAS_EXPANSION, YamlData, type YamlDataOptions } from "./yaml_data.ts";
