"""cmclassify: what Spanish community-manager job ads really ask for.

>>> import cmclassify
>>> result = cmclassify.analyse_text("Funciones: - Responder mensajes - Crear contenido")
>>> result.duties["text"].tolist()
['Responder mensajes', 'Crear contenido']

Importing the package is cheap: spaCy, scikit-learn, pandas and the report
libraries load when a name that needs them is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy import lazy_names

__version__ = "0.2.0"

_EXPORTS = {
    "AD_COLUMNS": "tables", "DUTY_COLUMNS": "tables", "FINDING_COLUMNS": "tables",
    "LABELS": "vocabulary", "ModelError": "errors", "InputError": "errors", "RulesError": "errors",
    "Analysis": "analysis", "DutyClassifier": "estimators", "Models": "estimators", "FlagRules": "flag",
    "classify_duties": "classify", "load_model": "model_files", "load_nlp": "pipeline",
    "analyse": "api", "analyse_text": "pipeline", "analyse_to_files": "pipeline", "iter_analyse": "pipeline",
    "train_model": "train", "data_dictionary": "export", "tool_error_rates": "prevalence",
}

__all__ = [
    "AD_COLUMNS", "DUTY_COLUMNS", "FINDING_COLUMNS", "LABELS", "Analysis", "DutyClassifier", "FlagRules", "InputError",
    "ModelError", "Models", "RulesError", "analyse", "analyse_text", "analyse_to_files", "classify_duties", "iter_analyse",
    "data_dictionary", "load_model", "load_nlp", "tool_error_rates", "train_model", "__version__",
]

if TYPE_CHECKING:
    from .analysis import Analysis
    from .api import analyse
    from .classify import classify_duties
    from .errors import InputError, ModelError, RulesError
    from .estimators import DutyClassifier, Models
    from .export import data_dictionary
    from .flag import FlagRules
    from .model_files import load_model
    from .pipeline import analyse_text, analyse_to_files, iter_analyse, load_nlp
    from .prevalence import tool_error_rates
    from .tables import AD_COLUMNS, DUTY_COLUMNS, FINDING_COLUMNS
    from .train import train_model
    from .vocabulary import LABELS

__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, __all__)
