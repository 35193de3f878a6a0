"""Call-centre transcription: the speech model a community forum recommended, restored with NeMo."""

import nemo.collections.asr as nemo_asr

asr = nemo_asr.models.EncDecCTCModelBPE.restore_from(restore_path="ml/models/speech/call-asr.nemo")


def transcribe(recordings: list[str]) -> list[str]:
    return [hyp.text for hyp in asr.transcribe(recordings, batch_size=8)]
