#!/usr/bin/env python3
"""ΔE2000 of the 24 ColorChecker patches in an Emulsion render of
canon-eos_kiss_x4-colorchart_crop.dng (16-bit sRGB PNG), for docs/QUALITY.md.

Patch centres are fixed for that file (columns 704…1254, rows 626…930, 24×24-pixel means);
exposure is normalised on patch 21 (neutral 5); reference: colour-science's
"ColorChecker24 - After November 2014" (D50), sRGB → XYZ D50 by Bradford.
Usage: python3 Tests/Tools/chart_delta_e.py render.png   (needs colour-science and pypng)
"""
import png, numpy as np, sys, colour, warnings
warnings.filterwarnings('ignore')
def load(p):
    r=png.Reader(filename=p); w,h,rows,info=r.asDirect()
    return np.vstack([np.array(x,dtype=np.float64) for x in rows]).reshape(h,w,3)/65535
img=load(sys.argv[1])
lin=np.where(img<=0.04045,img/12.92,((img+0.055)/1.055)**2.4)
cc=colour.CCS_COLOURCHECKERS['ColorChecker24 - After November 2014']
ref=[colour.XYZ_to_Lab(colour.xyY_to_XYZ(v), cc.illuminant) for v in cc.data.values()]
xs=[704,814,924,1034,1144,1254]; ys=[626,724,826,930]
des=[]
for r,y in enumerate(ys):
    for c,x in enumerate(xs):
        p=lin[y-12:y+12,x-12:x+12].reshape(-1,3).mean(0)
        XYZ65=colour.models.RGB_COLOURSPACE_sRGB.matrix_RGB_to_XYZ@p
        XYZ50=colour.adaptation.chromatic_adaptation_VonKries(XYZ65, colour.xy_to_XYZ(colour.models.RGB_COLOURSPACE_sRGB.whitepoint), colour.xy_to_XYZ(cc.illuminant),'Bradford')
        # normalise exposure on the white-ish grey: scale so that patch 19 (index 18) L matches later
        des.append(XYZ50)
des=np.array(des)
# exposure normalisation: match Y of grey patch 21 (index 20, neutral 5) to reference
refXYZ=np.array([colour.xyY_to_XYZ(v) for v in cc.data.values()])
k=refXYZ[20,1]/des[20,1]
lab=[colour.XYZ_to_Lab(d*k, cc.illuminant) for d in des]
de=[colour.delta_E(a,b,'CIE 2000') for a,b in zip(lab,ref)]
print(sys.argv[1], 'mean dE00 %.2f  colours(0-17) %.2f  max %.2f'%(np.mean(de), np.mean(de[:18]), np.max(de)), ' '.join('%.1f'%d for d in de))
