"""Chinese NLU: text in, prediction out (type, department, topic, entities, confidences)."""
