/* SPDX-License-Identifier: MIT */
/*
 * onnx_proto.h - the field numbers of onnx.proto (ONNX IR version 8, the schema Debian's
 * python3-onnx 1.12 ships) that nabla writes and reads, so the encoder and the decoder share
 * one list. Names are <Message>_<field> as the schema spells them.
 */
#ifndef NB_ONNX_PROTO_H
#define NB_ONNX_PROTO_H

enum {
    /* ModelProto */
    ONNX_MODEL_IR_VERSION = 1,
    ONNX_MODEL_PRODUCER_NAME = 2,
    ONNX_MODEL_PRODUCER_VERSION = 3,
    ONNX_MODEL_DOMAIN = 4,
    ONNX_MODEL_MODEL_VERSION = 5,
    ONNX_MODEL_DOC_STRING = 6,
    ONNX_MODEL_GRAPH = 7,
    ONNX_MODEL_OPSET_IMPORT = 8,
    ONNX_MODEL_METADATA_PROPS = 14,
    ONNX_MODEL_FUNCTIONS = 25,
    /* OperatorSetIdProto */
    ONNX_OPSET_DOMAIN = 1,
    ONNX_OPSET_VERSION = 2,
    /* StringStringEntryProto */
    ONNX_ENTRY_KEY = 1,
    ONNX_ENTRY_VALUE = 2,
    /* GraphProto */
    ONNX_GRAPH_NODE = 1,
    ONNX_GRAPH_NAME = 2,
    ONNX_GRAPH_INITIALIZER = 5,
    ONNX_GRAPH_DOC_STRING = 10,
    ONNX_GRAPH_INPUT = 11,
    ONNX_GRAPH_OUTPUT = 12,
    ONNX_GRAPH_VALUE_INFO = 13,
    ONNX_GRAPH_SPARSE_INITIALIZER = 15,
    /* NodeProto */
    ONNX_NODE_INPUT = 1,
    ONNX_NODE_OUTPUT = 2,
    ONNX_NODE_NAME = 3,
    ONNX_NODE_OP_TYPE = 4,
    ONNX_NODE_ATTRIBUTE = 5,
    ONNX_NODE_DOC_STRING = 6,
    ONNX_NODE_DOMAIN = 7,
    /* AttributeProto */
    ONNX_ATTR_NAME = 1,
    ONNX_ATTR_F = 2,
    ONNX_ATTR_I = 3,
    ONNX_ATTR_S = 4,
    ONNX_ATTR_T = 5,
    ONNX_ATTR_G = 6,
    ONNX_ATTR_FLOATS = 7,
    ONNX_ATTR_INTS = 8,
    ONNX_ATTR_STRINGS = 9,
    ONNX_ATTR_TYPE = 20,
    ONNX_ATTR_REF_ATTR_NAME = 21,
    /* AttributeProto.AttributeType */
    ONNX_ATYPE_FLOAT = 1,
    ONNX_ATYPE_INT = 2,
    ONNX_ATYPE_STRING = 3,
    ONNX_ATYPE_TENSOR = 4,
    ONNX_ATYPE_GRAPH = 5,
    ONNX_ATYPE_FLOATS = 6,
    ONNX_ATYPE_INTS = 7,
    ONNX_ATYPE_STRINGS = 8,
    /* ValueInfoProto */
    ONNX_VALUE_NAME = 1,
    ONNX_VALUE_TYPE = 2,
    /* TypeProto, TypeProto.Tensor, TensorShapeProto, TensorShapeProto.Dimension */
    ONNX_TYPE_TENSOR_TYPE = 1,
    ONNX_TTYPE_ELEM_TYPE = 1,
    ONNX_TTYPE_SHAPE = 2,
    ONNX_SHAPE_DIM = 1,
    ONNX_DIM_VALUE = 1,
    ONNX_DIM_PARAM = 2,
    /* TensorProto */
    ONNX_TENSOR_DIMS = 1,
    ONNX_TENSOR_DATA_TYPE = 2,
    ONNX_TENSOR_SEGMENT = 3,
    ONNX_TENSOR_FLOAT_DATA = 4,
    ONNX_TENSOR_INT32_DATA = 5,
    ONNX_TENSOR_STRING_DATA = 6,
    ONNX_TENSOR_INT64_DATA = 7,
    ONNX_TENSOR_NAME = 8,
    ONNX_TENSOR_RAW_DATA = 9,
    ONNX_TENSOR_DOUBLE_DATA = 10,
    ONNX_TENSOR_EXTERNAL_DATA = 13,
    ONNX_TENSOR_DATA_LOCATION = 14,
    /* TensorProto.DataType */
    ONNX_DT_FLOAT = 1,
    ONNX_DT_INT32 = 6,
    ONNX_DT_INT64 = 7,
    ONNX_DT_BOOL = 9,
    ONNX_DT_DOUBLE = 11,
    /* what nabla writes: IR version 8 (ONNX 1.10+) with opset 13 of the default domain */
    NB__ONNX_IR_VERSION = 8,
    NB__ONNX_OPSET = 13
};

#endif
