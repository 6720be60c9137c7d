/// CIELAB (CIE 1976 L*a*b*): the perceptual space golden-image comparisons and ΔE00 work in.
///
/// What: conversion between CIE XYZ and L*a*b* relative to a reference white, in double precision.
/// Why: colour differences (CIEDE2000, see DeltaE2000.swift) are defined on L*a*b*, and the ICC
/// profile connection space is XYZ or Lab relative to D50, so output pixels are compared there.
/// Reference: CIE 15:2004 "Colorimetry", §8.2.1 (the form with the linear segment below
/// (6/29)³ ≈ 0.008856, written with exact rational constants as LittleCMS's cmsXYZ2Lab does).
/// Colour space in/out: XYZ (Y of the white = 1, not 100) ↔ L*a*b* (L* 0…100) for the given white;
/// the default white is the ICC PCS white `iccD50`.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A colour in CIE 1976 L*a*b* coordinates (L* 0…100, a* and b* unbounded, typically ±128).
public struct CIELab: Sendable, Hashable, Codable {
    public var L: Double
    public var a: Double
    public var b: Double

    public init(L: Double, a: Double, b: Double) { self.L = L; self.a = a; self.b = b }

    /// L*a*b* of `xyz` relative to `white` (both with Y of the white = 1).
    public init(xyz: SIMD3<Double>, white: SIMD3<Double> = iccD50) {
        let fx = CIELab.f(xyz.x / white.x)
        let fy = CIELab.f(xyz.y / white.y)
        let fz = CIELab.f(xyz.z / white.z)
        L = 116 * fy - 16
        a = 500 * (fx - fy)
        b = 200 * (fy - fz)
    }

    /// The XYZ this L*a*b* colour stands for relative to `white` (the exact inverse of `init(xyz:white:)`).
    public func xyz(white: SIMD3<Double> = iccD50) -> SIMD3<Double> {
        let fy = (L + 16) / 116
        let fx = fy + a / 500
        let fz = fy - b / 200
        return SIMD3(white.x * CIELab.fInverse(fx), white.y * CIELab.fInverse(fy), white.z * CIELab.fInverse(fz))
    }

    /// C*ab, the chroma: distance from the neutral axis.
    public var chroma: Double { (a * a + b * b).squareRoot() }

    /// h_ab in degrees, 0 ≤ h < 360 (0 for neutral colours, where the hue is undefined).
    public var hueDegrees: Double {
        if a == 0 && b == 0 { return 0 }
        let h = atan2(b, a) * (180 / Double.pi)
        return h < 0 ? h + 360 : h
    }

    /// δ = 6/29; below δ³ the cube root is replaced by a straight line of slope 1/(3δ²) meeting it.
    static let delta = 6.0 / 29.0

    /// CIE 15:2004 f(t): t^(1/3) above (6/29)³ = 216/24389, else (841/108)·t + 4/29.
    static func f(_ t: Double) -> Double {
        t > 216.0 / 24389.0 ? cbrt(t) : (841.0 / 108.0) * t + 4.0 / 29.0
    }

    /// Inverse of `f`: t³ above 6/29, else (108/841)·(t − 4/29).
    static func fInverse(_ t: Double) -> Double {
        t > delta ? t * t * t : (108.0 / 841.0) * (t - 4.0 / 29.0)
    }
}
