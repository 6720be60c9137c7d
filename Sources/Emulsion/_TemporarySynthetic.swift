// TEMPORARY until branch synth lands.
public enum SyntheticInput { public static func writeDefaultChart(to path: String) throws { throw RenderError("not yet") } }
