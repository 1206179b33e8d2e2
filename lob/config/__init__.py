"""Configuration layer: typed frozen configs, TOML with line numbers,
scenario files with ``extends``, distributions and strategy specs.

* :mod:`lob.config.base`     -- :class:`Config`, :func:`config`, :func:`field`,
  :func:`describe`, :func:`from_dict`;
* :mod:`lob.config.errors`   -- :class:`ConfigError` (``file:line: key: message``),
  :class:`SourceMap`, key paths;
* :mod:`lob.config.toml`     -- :func:`load_toml` -> :class:`Document`, :func:`dumps`;
* :mod:`lob.config.scenario` -- :class:`ScenarioResolver`, :func:`load_scenario`,
  :func:`override`, :data:`DELETE`;
* :mod:`lob.config.dist`     -- :class:`Dist` and its families;
* :mod:`lob.config.loader`   -- :func:`load_object`, :class:`StrategySpec`,
  :func:`build_strategy`.
"""
from .base import (MISSING, Config, FieldInfo, FrozenDict, Range, config, convert, describe, field,
                   fields_of, from_dict, to_dict, type_name)
from .dist import (Choice, Const, Dist, Exponential, LogNormal, LogUniform, Normal, Pareto, Support,
                   Uniform)
from .errors import ConfigError, Issue, Loc, SourceMap, fmt_path, parse_path
from .loader import StrategySpec, build_strategy, config_class_of, load_object
from .scenario import (DELETE, ScenarioResolver, default_resolver, load_scenario, merge, override,
                       parse_value)
from .toml import Document, dumps, load_toml, loads_toml

__all__ = [
    "Config", "config", "field", "Range", "FrozenDict", "FieldInfo", "MISSING", "from_dict",
    "to_dict", "convert", "describe", "type_name", "fields_of",
    "ConfigError", "Issue", "Loc", "SourceMap", "fmt_path", "parse_path",
    "Document", "load_toml", "loads_toml", "dumps",
    "DELETE", "ScenarioResolver", "default_resolver", "load_scenario", "merge", "override",
    "parse_value",
    "Dist", "Support", "Const", "Uniform", "LogUniform", "Normal", "LogNormal", "Exponential",
    "Pareto", "Choice",
    "StrategySpec", "build_strategy", "config_class_of", "load_object",
]
