print("emulsion")
