; A 3x3 convolution with padding 1 (written by the load), 2 -> 4
; channels on a 4x4 image, requantized per tensor and stored.
.dram 200
.input x shape=1x4x4x2 addr=104 scale=0.05 zp=-1
.output y shape=1x4x4x4 addr=136 scale=0.1 zp=3
.data 104
.bytes 1f0000006effffff6800000005fffffff00ef20311ef0cf9eef10706f0fbf10f
.bytes 07ef10f3fa141411ef101105effaee0ff4fe06f50ef310ff0ff7f2111014f803
.bytes f20ff010ef13f90b0e070009110903fffbf7fbf110ff0d0b0000005a26000000
.bytes 0000000002000000
load buf=1 dram=0 sram=0 rows=1 cols=104 elem=1 stride=104 pad_top=0 pad_bottom=0 pad_left=0 pad_right=0 pad_value=0
load buf=0 dram=104 sram=0 rows=4 cols=4 elem=2 stride=8 pad_top=1 pad_bottom=1 pad_left=1 pad_right=1 pad_value=-1 push_next
mac mode=0 init=1 depthwise=0 inp=0 wgt=16 bias=0 acc=0 out_h=4 out_w=4 in_w=6 in_c=2 in_c_off=0 cin=2 cout=4 kh=3 kw=3 sh=1 sw=1 dh=1 dw=1 wgt2=0 words=0 pop_prev
requant src_kind=0 src=0 dst=0 pixels=16 channels=4 params=88 per_channel=0 dual=0 round=0 in_zp=0 out_zp=3 qmin=-128 qmax=127 push_next
store dram=136 sram=0 rows=16 cols=4 elem=1 stride=4 pop_prev
