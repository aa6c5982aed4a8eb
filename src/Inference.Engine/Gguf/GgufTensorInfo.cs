namespace Inference.Engine.Gguf;

/// <summary>One tensor described in a GGUF header.</summary>
/// <param name="Name">Tensor name, e.g. <c>blk.0.attn_q.weight</c>.</param>
/// <param name="Dimensions">Sizes from the innermost (row) dimension outwards, as ggml stores them.</param>
/// <param name="Type">The ggml type number (see <see cref="GgmlTypes"/>).</param>
/// <param name="Offset">Offset of the tensor's data relative to the start of the data section.</param>
/// <param name="ByteSize">Size of the tensor's data in bytes.</param>
public sealed record GgufTensorInfo(string Name, ulong[] Dimensions, uint Type, ulong Offset, long ByteSize)
{
    /// <summary>Number of elements (product of the dimensions).</summary>
    public long ElementCount
    {
        get
        {
            long count = 1;
            foreach (var d in Dimensions)
            {
                count = checked(count * (long)d);
            }
            return count;
        }
    }

    /// <summary>Name of <see cref="Type"/>, e.g. <c>Q4_K</c>.</summary>
    public string TypeName => GgmlTypes.Name(Type);
}
