"""cmclassify: what Spanish community-manager job ads really ask for.

>>> import cmclassify
>>> result = cmclassify.analyse_text("Funciones: - Responder mensajes - Crear contenido")
>>> result.duties["text"].tolist()
['Responder mensajes', 'Crear contenido']
"""

__version__ = "0.1.0"

from .analysis import AD_COLUMNS, DUTY_COLUMNS, Analysis
from .nlp import load_nlp
from .pipeline import analyse, analyse_text

__all__ = ["AD_COLUMNS", "DUTY_COLUMNS", "Analysis", "analyse", "analyse_text", "load_nlp", "__version__"]
