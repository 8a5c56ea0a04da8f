# SPDX-License-Identifier: BSD-2-Clause
global-incdirs-y += include
# tl_ta.h: CMD_SLEEP and the parameter shorthands every lab TA shares
global-incdirs-y += ../common/include
srcs-y += teelab_ctx_ta.c
