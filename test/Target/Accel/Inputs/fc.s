; A fully connected layer (20 -> 10, wider than the 8x8 array) on a
; target without the dual requant unit that also lists the shift1 mode.
.target name = fc-target
.target tn = 8
.target tm = 8
.target modes = multiply,shift1
.target dual_requant = 0
.dram 286
.input x shape=1x20 addr=256 scale=0.1 zp=0
.output y shape=1x10 addr=276 scale=0.3 zp=1
.data 256
.bytes dffdffffe0fafffff60100000ffaffff1600000021f9ffffadfbffff7a040000
.bytes c9fcffff41faffff59db01001bb0c60e0228e3bf0a28e35006f74afdd7c2b1c9
.bytes c2d744d79f1832cadfe49dc10724fa382cedbc4c1f3a434959a910634a2b0001
.bytes 0200b6173e02abccadd10cc5b8f335a9b69c2dc225b5f939a2aed139fcc23edc
.bytes f436f915bbb918131617ebb1c0b65bf359df164dc520a1d023f8c14c27a25e23
.bytes e840b34ede20f9c6f761d52426631cf03ed5385ecdd90259d6cf201af757a3a3
.bytes e314decd4d36f40e55f5f9b0d4b6d614cef2d0173b389c1643f440b145baff64
.bytes 525ccf16c90b3ef1b2540112025ab155ffffff7f260000000000000002000000
load buf=1 dram=0 sram=0 rows=1 cols=256 elem=1 stride=256 pad_top=0 pad_bottom=0 pad_left=0 pad_right=0 pad_value=0
load buf=0 dram=256 sram=0 rows=1 cols=20 elem=1 stride=20 pad_top=0 pad_bottom=0 pad_left=0 pad_right=0 pad_value=0 push_next
mac mode=0 init=1 depthwise=0 inp=0 wgt=40 bias=0 acc=0 out_h=1 out_w=1 in_w=1 in_c=20 in_c_off=0 cin=20 cout=10 kh=1 kw=1 sh=1 sw=1 dh=1 dw=1 wgt2=0 words=0 pop_prev
requant src_kind=0 src=0 dst=0 pixels=1 channels=10 params=240 per_channel=0 dual=0 round=0 in_zp=0 out_zp=1 qmin=-128 qmax=127 push_next
store dram=276 sram=0 rows=1 cols=10 elem=1 stride=10 pop_prev
