# SPDX-License-Identifier: MIT
#
# guest.mk - the build rules shared by teelab's lab guest programs
# (images/guest/<program>: tl-storage, tl-shm), normal-world libteec
# clients of the lab's Trusted Applications.
#
# A program's Makefile sets these, then includes this file with a path
# relative to its own directory (teelab runs make -C <dir> O=<out>):
#
#   PROG     the program's name, also the binary's (tl-shm)
#   SRCS     its C sources, relative to its directory (tl_shm.c)
#   TA_NAME  the TA whose header it includes, a directory of images/ta
#            whose include/ goes on the include path (teelab-shm)
#
#   PROG	:= tl-shm
#   SRCS	:= tl_shm.c
#   TA_NAME	:= teelab-shm
#   include $(dir $(lastword $(MAKEFILE_LIST)))../common/guest.mk
#
# The caller of make passes:
#
#   CC            the compiler (default aarch64-linux-gnu-gcc)
#   TEEC_SYSROOT  a tree with usr/include/tee_client_api.h and
#                 usr/lib/aarch64-linux-gnu/libteec.so (the
#                 optee-client-dev and libteec2 packages unpacked there);
#                 required.  The compiler's own C library is used; no
#                 --sysroot.
#   O             the output directory (default the program's directory)
#   CFLAGS, CPPFLAGS, LDFLAGS  optionally, extra flags
#
#   make CC=aarch64-linux-gnu-gcc TEEC_SYSROOT=<dir> O=<outdir>
#
# produces <outdir>/$(PROG), built with -std=c11 -Wall -Wextra -Werror -O2
# and linked with -lteec -lpthread.  The binary depends on its sources,
# the headers of the TA's include/ and this directory's tl_guest.h, so a
# changed header rebuilds it.  "make clean" removes it.

# This directory (images/guest/common) and the program's: the Makefile
# that included this file, the one before it in MAKEFILE_LIST.
COMMON_DIR	:= $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
SRC_DIR		:= $(patsubst %/,%,$(dir $(abspath $(lastword \
		   $(filter-out $(lastword $(MAKEFILE_LIST)),$(MAKEFILE_LIST))))))

ifeq ($(PROG),)
$(error PROG is not set: set PROG, SRCS and TA_NAME before including guest.mk)
endif

# CC ?= would keep make's built-in default (cc): replace only that one.
ifeq ($(origin CC),default)
CC		:= aarch64-linux-gnu-gcc
endif
O		?= .
TEEC_SYSROOT	?=

ifeq ($(TEEC_SYSROOT),)
$(error TEEC_SYSROOT is not set: point it at a tree with usr/include/tee_client_api.h)
endif

# The TA's header and the guest programs' common header (tl_guest.h),
# found relative to the Makefiles, so make -C works too.
TA_INC		:= $(SRC_DIR)/../../ta/$(TA_NAME)/include
SRC_FILES	:= $(addprefix $(SRC_DIR)/,$(SRCS))
HDR_FILES	:= $(wildcard $(TA_INC)/*.h) $(COMMON_DIR)/tl_guest.h

# Extra flags may be given in CFLAGS / CPPFLAGS / LDFLAGS.
TL_CFLAGS	:= -std=c11 -Wall -Wextra -Werror -O2
CPPFLAGS	+= -I$(TEEC_SYSROOT)/usr/include -I$(TA_INC) -I$(COMMON_DIR)
LDFLAGS		+= -L$(TEEC_SYSROOT)/usr/lib/aarch64-linux-gnu
LDLIBS		+= -lteec -lpthread

BIN		:= $(O)/$(PROG)

.PHONY: all clean
all: $(BIN)

$(BIN): $(SRC_FILES) $(HDR_FILES)
	@mkdir -p $(O)
	$(CC) $(CPPFLAGS) $(TL_CFLAGS) $(CFLAGS) -o $@ $(SRC_FILES) $(LDFLAGS) $(LDLIBS)

clean:
	rm -f $(BIN)
