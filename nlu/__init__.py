"""Chinese NLU: text in, prediction out (type, department, topic, entities, confidences).

`nlu` imports nothing of the ticket core; the wiring package builds a pipeline from config.yml
(`nlu.train.load_or_train`, `nlu.rasa.RasaClassifier`) and hands it to the ticket service.
"""

from nlu.config import DepartmentInfo, NluSettings, PipelineConfig
from nlu.prediction import NluPrediction

__all__ = ["DepartmentInfo", "NluPrediction", "NluSettings", "PipelineConfig"]
