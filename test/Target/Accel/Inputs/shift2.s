; A 3x3 convolution (padding 1) 3 -> 4 channels on a 4x4 image with STLQ
; weights (shift2: a word mask, some tiles with two words) on a 2x2
; array, a 1x1 shift1 convolution accumulated on top, a requant and a
; store.
.target name = stlq
.target tn = 2
.target tm = 2
.target modes = multiply,shift1,shift2
.dram 339
.input x shape=1x4x4x3 addr=227 scale=0.05 zp=0
.output y shape=1x4x4x4 addr=275 scale=0.1 zp=0
.data 227
.bytes 1f0000006effffff6800000005fffffffafb03f908fef9fa0505fafffa05f9fb
.bytes fff904f9fff9fc0105fcfb01fdfbfe03fbfaf9fe07050206060301fffdfffa01
.bytes 0807020601fafb0805fd02fc0705f9fa0202030706fafa0007faf90106010403
.bytes f80603fdfb07f9fe01fcff040407fafd060400fc0500050304fffcfaef8170ff
.bytes 0704fc00030307fbfb0706070701fafcfb020007fd08f8fe0803fcf80801fa00
.bytes 0803fd03ff0802fffeff04fffe080703f8f8000700fe03060303fafffbff07fe
.bytes 02fe07f80703fa04fb00060506fd01fc00060400000040280000000000000002
.bytes 000000
load buf=1 dram=0 sram=0 rows=1 cols=227 elem=1 stride=227 pad_top=0 pad_bottom=0 pad_left=0 pad_right=0 pad_value=0
load buf=0 dram=227 sram=0 rows=4 cols=4 elem=3 stride=12 pad_top=1 pad_bottom=1 pad_left=1 pad_right=1 pad_value=0 push_next
mac mode=2 init=1 depthwise=0 inp=0 wgt=16 bias=0 acc=0 out_h=4 out_w=4 in_w=6 in_c=3 in_c_off=0 cin=3 cout=4 kh=3 kw=3 sh=1 sw=1 dh=1 dw=1 wgt2=129 words=124 pop_prev
mac mode=1 init=0 depthwise=0 inp=21 wgt=199 bias=0 acc=0 out_h=4 out_w=4 in_w=6 in_c=3 in_c_off=0 cin=3 cout=4 kh=1 kw=1 sh=1 sw=1 dh=1 dw=1 wgt2=0 words=0
requant src_kind=0 src=0 dst=0 pixels=16 channels=4 params=211 per_channel=0 dual=0 round=0 in_zp=0 out_zp=0 qmin=-128 qmax=127 push_next
store dram=275 sram=0 rows=1 cols=64 elem=1 stride=64 pop_prev
