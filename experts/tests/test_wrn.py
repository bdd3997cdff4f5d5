import pytest
import torch

from poe.wrn import WideResNet, Library, Expert, count_params, library_from_state_dict, expert_from_state_dict


def test_parameter_counts_match_the_paper():
    assert count_params(Library(16, 1)) == 42_768
    assert count_params(Expert(32, 16, 5)) == 12_309


def test_library_output_shape():
    assert Library(16, 1)(torch.zeros(2, 3, 32, 32)).shape == (2, 32, 16, 16)


def test_library_from_a_whole_wrn_state_dict_computes_the_same_features():
    torch.manual_seed(0)
    wrn = WideResNet(16, 1, 100).eval()
    lib = library_from_state_dict(wrn.state_dict()).eval()
    x = torch.randn(3, 3, 32, 32)
    assert torch.allclose(lib(x), wrn.features(x))


def test_expert_width_and_classes_come_from_the_tensor_shapes():
    e = expert_from_state_dict(Expert(32, 8, 3).state_dict())
    assert e.bn1.num_features == 8 and e.fc.out_features == 3
    # DataParallel checkpoints prefix every key with 'module.'
    e2 = expert_from_state_dict({'module.' + k: v for k, v in Expert(32, 12, 4).state_dict().items()})
    assert e2.fc.out_features == 4


def test_bad_state_dicts_get_specific_messages():
    with pytest.raises(ValueError, match='not a WideResNet expert state_dict: missing'):
        expert_from_state_dict(Library(16, 1).state_dict())
    with pytest.raises(ValueError, match='not a WideResNet library state_dict'):
        library_from_state_dict(Expert(32, 16, 5).state_dict())
    sd = Library(16, 1).state_dict()
    sd['block2.layer.0.conv2.weight'] = torch.zeros(32, 32, 1, 1)
    with pytest.raises(ValueError, match=r'block2.layer.0.conv2.weight has shape'):
        library_from_state_dict(sd)
