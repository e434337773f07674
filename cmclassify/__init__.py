"""cmclassify: what Spanish community-manager job ads really ask for.

>>> import cmclassify
>>> result = cmclassify.analyse_text("Funciones: - Responder mensajes - Crear contenido")
>>> result.duties["text"].tolist()
['Responder mensajes', 'Crear contenido']
"""

__version__ = "0.1.0"

from .analysis import AD_COLUMNS, DUTY_COLUMNS, FINDING_COLUMNS, Analysis
from .classify import LABELS, DutyClassifier, ModelError, classify_duties, load_model, train_model
from .flag import FlagRules
from .nlp import load_nlp
from .pipeline import analyse, analyse_text, analyse_to_files, iter_analyse

__all__ = [
    "AD_COLUMNS", "DUTY_COLUMNS", "FINDING_COLUMNS", "LABELS", "Analysis", "DutyClassifier", "FlagRules", "ModelError",
    "analyse", "analyse_text", "analyse_to_files", "classify_duties", "iter_analyse", "load_model", "load_nlp",
    "train_model", "__version__",
]
