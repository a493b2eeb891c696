; A depthwise 3x3 layer with a per-channel dual requant (PReLU folded),
; stored, then a second layer (max pool) whose load waits on the store
; through a sync.
.target dual_requant = 1
.dram 236
.input x shape=1x5x5x4 addr=116 scale=0.02 zp=0
.output y shape=1x1x1x4 addr=232 scale=0.04 zp=-5
.data 116
.bytes 8c0100006bfffffff6000000d7fffffffe12f0f30c06f601f50b06eef00f1000
.bytes 0102120b1109f0f1fd0af0efff1008fe0402ed09000000402400000000000008
.bytes 25000000e803004025000000000000e025000000d00700402600000000000008
.bytes 25000000b80b004027000000000000e025000000
load buf=1 dram=0 sram=0 rows=1 cols=116 elem=1 stride=116 pad_top=0 pad_bottom=0 pad_left=0 pad_right=0 pad_value=0
load buf=0 dram=116 sram=0 rows=5 cols=5 elem=4 stride=20 pad_top=0 pad_bottom=0 pad_left=0 pad_right=0 pad_value=0 push_next
mac mode=0 init=1 depthwise=1 inp=0 wgt=16 bias=0 acc=0 out_h=3 out_w=3 in_w=5 in_c=4 in_c_off=0 cin=4 cout=4 kh=3 kw=3 sh=1 sw=1 dh=1 dw=1 wgt2=0 words=0 pop_prev
requant src_kind=0 src=0 dst=0 pixels=9 channels=4 params=52 per_channel=1 dual=1 round=1 in_zp=0 out_zp=-5 qmin=-128 qmax=127 push_next
store dram=116 sram=0 rows=3 cols=3 elem=4 stride=12 pop_prev push_prev
sync pop_next push_prev
load buf=0 dram=116 sram=0 rows=3 cols=3 elem=4 stride=12 pad_top=0 pad_bottom=0 pad_left=0 pad_right=0 pad_value=0 pop_next push_next
pool kind=0 src=0 dst=64 in_w=3 c=4 out_h=1 out_w=1 kh=3 kw=3 sh=1 sw=1 zp=-5 qmin=-128 qmax=127 pop_prev push_next
store dram=232 sram=64 rows=1 cols=1 elem=4 stride=4 pop_prev
