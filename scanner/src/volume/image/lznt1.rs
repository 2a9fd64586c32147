//! LZNT1, the compression NTFS applies to files in compressed folders.
//!
//! A compression unit (16 clusters) is stored as a run of chunks, each a
//! 2-byte header (stored size − 3 in the low 12 bits, bit 15 set when
//! compressed) and up to 4 KiB of data: literals and back-references whose
//! offset/length split depends on how far into the 4 KiB chunk they are.
//! Pure and bounded: malformed input is an error, never a panic.

/// Uncompressed bytes a chunk stands for.
const CHUNK: usize = 4096;

/// Appends what `input` (one compression unit's chunks) decompresses to,
/// at most `limit` bytes, to `out`.
pub fn decompress(input: &[u8], out: &mut Vec<u8>, limit: usize) -> Result<(), String> {
    let start = out.len();
    let mut at = 0;
    while at + 2 <= input.len() && out.len() - start < limit {
        let header = u16::from_le_bytes([input[at], input[at + 1]]);
        if header == 0 {
            break; // the end of the unit's chunks
        }
        let size = (header & 0x0FFF) as usize + 1;
        let data = input
            .get(at + 2..at + 2 + size)
            .ok_or_else(|| format!("LZNT1 chunk at byte {at} runs past the unit"))?;
        let chunk_start = out.len();
        if header & 0x8000 == 0 {
            out.extend_from_slice(&data[..size.min(CHUNK)]);
        } else {
            chunk(data, out, chunk_start).map_err(|e| format!("LZNT1 chunk at byte {at}: {e}"))?;
        }
        // A chunk that gives less than 4 KiB stands for zeros after it.
        let written = out.len() - chunk_start;
        if written < CHUNK {
            out.resize(chunk_start + CHUNK, 0);
        }
        at += 2 + size;
    }
    out.truncate(start + limit.min(out.len() - start));
    Ok(())
}

/// Decompresses one compressed chunk's `data`; `base` is where its output starts.
fn chunk(data: &[u8], out: &mut Vec<u8>, base: usize) -> Result<(), &'static str> {
    let mut i = 0;
    while i < data.len() {
        let flags = data[i];
        i += 1;
        for bit in 0..8 {
            if i >= data.len() {
                break;
            }
            if flags >> bit & 1 == 0 {
                out.push(data[i]);
                i += 1;
                continue;
            }
            let token =
                u16::from_le_bytes([data[i], *data.get(i + 1).ok_or("truncated back-reference")?]);
            i += 2;
            let pos = out.len() - base;
            if pos == 0 {
                return Err("back-reference before any data");
            }
            // The further into the chunk, the more bits the offset takes.
            let (mut length_mask, mut shift) = (0x0FFFu16, 12u32);
            let mut p = pos - 1;
            while p >= 0x10 {
                length_mask >>= 1;
                shift -= 1;
                p >>= 1;
            }
            let length = (token & length_mask) as usize + 3;
            let back = (token >> shift) as usize + 1;
            if back > pos {
                return Err("back-reference before the chunk's start");
            }
            if pos + length > CHUNK {
                return Err("chunk decompresses past 4 KiB");
            }
            let from = out.len() - back;
            for k in 0..length {
                let b = out[from + k];
                out.push(b);
            }
        }
    }
    if out.len() - base > CHUNK {
        return Err("chunk decompresses past 4 KiB");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_back_references_decompress() {
        // "abcabcabcabc": 3 literals, then a back-reference of 3 back, 9 long.
        // Token at position 3: 12 offset bits → length (9-3)=6, offset (3-1)=2.
        let token: u16 = (2 << 12) | 6;
        let mut chunk = vec![0b0000_1000, b'a', b'b', b'c'];
        chunk.extend_from_slice(&token.to_le_bytes());
        let header = 0x8000u16 | 0x3000 | (chunk.len() as u16 - 1);
        let mut unit = header.to_le_bytes().to_vec();
        unit.extend_from_slice(&chunk);
        let mut out = Vec::new();
        decompress(&unit, &mut out, 12).unwrap();
        assert_eq!(out, b"abcabcabcabc");
    }

    #[test]
    fn stored_chunks_are_copied_and_bad_input_is_an_error() {
        let mut unit = (0x3000u16 | 3).to_le_bytes().to_vec();
        unit.extend_from_slice(b"wxyz");
        let mut out = Vec::new();
        decompress(&unit, &mut out, 4).unwrap();
        assert_eq!(out, b"wxyz");
        // A back-reference in the first byte, a chunk that claims too much.
        let bad = [0x02, 0xB0, 0x01, 0x00, 0x10];
        assert!(decompress(&bad, &mut Vec::new(), 100).is_err());
        assert!(decompress(&[0xFF, 0xBF, 0x00], &mut Vec::new(), 100).is_err());
    }
}
